"""Child tables: the child, and the agencies linked to them (which widens who may read)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class Child(Base):
    __tablename__ = "children"
    # Likely-duplicate search: same names (case and spacing folded) and date of birth.
    __table_args__ = (Index("ix_children_name_key_date_of_birth", "name_key", "date_of_birth"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(210))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "gender"))
    ethnicity: Mapped[Ethnicity] = mapped_column(enum_column(Ethnicity, "ethnicity"))
    looked_after: Mapped[bool] = mapped_column(default=False)
    sen_or_disability: Mapped[bool] = mapped_column(default=False)
    school: Mapped[str | None] = mapped_column(String(200))
    home_ward_code: Mapped[str | None] = mapped_column(String(9))
    # Not unique: a known number sent with another birth date or family name is kept on a
    # new record for the hub to review and merge (refusing it would tell the sender the
    # hub knows the number). Registration matches on it, so a child is not added twice.
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    police_reference: Mapped[str | None] = mapped_column(String(50))
    local_authority_reference: Mapped[str | None] = mapped_column(String(50))
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"), index=True)
    row_version: Mapped[int] = mapped_column(default=1)
    created_by_agency: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class LinkReason(StrEnum):
    referral = "referral"
    allocation = "allocation"
    registration = "registration"
    support = "support"  # the agency provides support to the child (referral_api.support)


class ChildAgencyLink(Base):
    """An agency linked to a child by a referral it sent, a case allocated to it, a record
    it registered or support it provides."""

    __tablename__ = "child_agency_links"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(63), primary_key=True, index=True)
    reason: Mapped[LinkReason] = mapped_column(enum_column(LinkReason, "link_reason"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
