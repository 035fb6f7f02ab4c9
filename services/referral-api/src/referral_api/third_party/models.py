"""Third-party information table."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from referral_api.referrals.models import LawfulBasis
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class ThirdPartyInformation(Base):
    __tablename__ = "third_party_information"
    __table_args__ = (UniqueConstraint("agency", "source_reference"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency: Mapped[str] = mapped_column(String(63), index=True)
    agency_type: Mapped[AgencyType] = mapped_column(enum_column(AgencyType, "agency_type"))
    submitted_by: Mapped[str] = mapped_column(String(255))
    source_reference: Mapped[str | None] = mapped_column(String(100))
    informant_name: Mapped[str] = mapped_column(String(200))
    informant_role: Mapped[str] = mapped_column(String(200))
    informant_organisation: Mapped[str | None] = mapped_column(String(200))
    informant_contact: Mapped[str | None] = mapped_column(String(254))
    child_given_name: Mapped[str | None] = mapped_column(String(100))
    child_family_name: Mapped[str | None] = mapped_column(String(100))
    child_date_of_birth: Mapped[date | None] = mapped_column(Date)
    child_nhs_number: Mapped[str | None] = mapped_column(String(10))
    child_description: Mapped[str | None] = mapped_column(Text)
    information: Mapped[str] = mapped_column(Text)
    concern_types: Mapped[list[str]] = mapped_column(JSON)
    lawful_basis: Mapped[LawfulBasis] = mapped_column(enum_column(LawfulBasis, "lawful_basis"))
    lawful_basis_reason: Mapped[str | None] = mapped_column(Text)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
