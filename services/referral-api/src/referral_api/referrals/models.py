"""Referral tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Enum, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcDateTime, utc_now


class ConcernType(StrEnum):
    sexual_exploitation = "sexual_exploitation"
    criminal_exploitation = "criminal_exploitation"
    county_lines = "county_lines"
    online_harm = "online_harm"
    missing = "missing"
    trafficking = "trafficking"
    other = "other"


class Urgency(StrEnum):
    routine = "routine"
    urgent = "urgent"
    immediate = "immediate"


class ReferralStatus(StrEnum):
    received = "received"
    screening = "screening"
    allocated = "allocated"
    signposted = "signposted"
    no_further_action = "no_further_action"
    closed = "closed"


def _enum(cls: type[StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable across SQLite and PostgreSQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda e: [m.value for m in e],
    )


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("agency", "source_reference"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency: Mapped[str] = mapped_column(String(63), index=True)
    agency_type: Mapped[AgencyType] = mapped_column(_enum(AgencyType, "agency_type"))
    submitted_by: Mapped[str] = mapped_column(String(255))
    source_reference: Mapped[str | None] = mapped_column(String(100))
    concern_types: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency, "urgency"))
    status: Mapped[ReferralStatus] = mapped_column(
        _enum(ReferralStatus, "referral_status"), default=ReferralStatus.received, index=True
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
