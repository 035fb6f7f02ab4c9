"""Referral tables: the referral, its concern types, and each step of its workflow."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_api.database import Base
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class ConcernType(StrEnum):
    sexual_exploitation = "sexual_exploitation"
    criminal_exploitation = "criminal_exploitation"
    county_lines = "county_lines"
    online_harm = "online_harm"
    missing = "missing"
    trafficking = "trafficking"
    other = "other"


EXPLOITATION_CONCERNS = frozenset(
    {
        ConcernType.sexual_exploitation,
        ConcernType.criminal_exploitation,
        ConcernType.county_lines,
        ConcernType.trafficking,
    }
)


class Urgency(StrEnum):
    routine = "routine"
    urgent = "urgent"
    immediate = "immediate"


class LawfulBasis(StrEnum):
    consent = "consent"
    safeguarding_without_consent = "safeguarding_without_consent"


class ReferralStatus(StrEnum):
    received = "received"
    screening = "screening"
    allocated = "allocated"
    signposted = "signposted"
    no_further_action = "no_further_action"
    closed = "closed"


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("agency", "source_reference"),
        # Covers the figures' commonest groupings, so a year is counted from the index alone.
        Index(
            "ix_referrals_figures",
            "received_at",
            "received_quarter",
            "received_financial_quarter",
            "age_band_at_referral",
            "agency_type",
            "stats_key",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    agency: Mapped[str] = mapped_column(String(63), index=True)
    agency_type: Mapped[AgencyType] = mapped_column(enum_column(AgencyType, "agency_type"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(255))
    source_reference: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    referrer_name: Mapped[str] = mapped_column(String(200))
    referrer_role: Mapped[str] = mapped_column(String(200))
    referrer_phone: Mapped[str | None] = mapped_column(String(40))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    summary: Mapped[str] = mapped_column(Text)
    lawful_basis: Mapped[LawfulBasis] = mapped_column(enum_column(LawfulBasis, "lawful_basis"))
    lawful_basis_reason: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "urgency"))
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "referral_status"), default=ReferralStatus.received, index=True
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Facts fixed at receipt, kept for figures: grouping on stored values is what lets a
    # year of a large partnership's referrals be counted in a fraction of a second.
    received_quarter: Mapped[str] = mapped_column(String(7))
    received_month: Mapped[str] = mapped_column(String(7))
    received_financial_quarter: Mapped[str] = mapped_column(String(10))  # 2025-26-Q1
    age_band_at_referral: Mapped[str] = mapped_column(String(5))
    decision_due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    allocated_team: Mapped[str | None] = mapped_column(String(200))
    allocated_worker: Mapped[str | None] = mapped_column(String(200), index=True)
    allocated_agency: Mapped[str | None] = mapped_column(String(63))
    # A slug of the agreement's services; rows signposted before the closed list keep the
    # free text recorded then (the agreement is not the migrations' to read).
    signposted_to: Mapped[str | None] = mapped_column(String(200))
    # Loaded from an earlier system with its original times (referrals.migration).
    migrated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The referral's fixed random key for the cell key method (safeguarding_kit.disclosure).
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    concerns: Mapped[list[ReferralConcern]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ReferralConcern.concern_type"
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract

    @property
    def concern_types(self) -> list[ConcernType]:
        return [c.concern_type for c in self.concerns]


class ReferralConcern(Base):
    """One concern type of a referral (a row each, so lists and figures filter in SQL)."""

    __tablename__ = "referral_concerns"

    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
    concern_type: Mapped[ConcernType] = mapped_column(
        enum_column(ConcernType, "concern_type"), primary_key=True, index=True
    )


class ReferralEvent(Base):
    """One step of a referral's workflow: who, when, from what to what, and why."""

    __tablename__ = "referral_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(enum_column(ReferralStatus, "from_status"))
    to_status: Mapped[ReferralStatus] = mapped_column(enum_column(ReferralStatus, "to_status"))
    actor_sub: Mapped[str] = mapped_column(String(255))
    actor_agency: Mapped[str] = mapped_column(String(63))
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
