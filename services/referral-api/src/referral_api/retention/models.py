"""Legal hold table, and the disposal records (the kit's table) as rows to list."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import DISPOSALS, Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.retention.schedule import RecordClass


class HoldSubject(StrEnum):
    """What a legal hold keeps: one child's record, one person or place of concern, or
    every record of a class."""

    child = "child"
    person_of_concern = "person_of_concern"
    place_of_concern = "place_of_concern"
    record_class = "record_class"


class LegalHold(Base):
    """A hold an auditor placed (an inquiry, a police operation, a claim): what it holds
    is never disposed of until it is released."""

    __tablename__ = "legal_holds"
    # What every disposal asks: which holds are active, on what.
    __table_args__ = (Index("ix_legal_holds_active_subject", "released_at", "subject_type", "subject_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_type: Mapped[HoldSubject] = mapped_column(enum_column(HoldSubject, "hold_subject"))
    # No foreign key: the subject is a child, a person or a place (or none, for a class).
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    record_class: Mapped[RecordClass | None] = mapped_column(enum_column(RecordClass, "record_class"))
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200))
    placed_by: Mapped[str] = mapped_column(String(255))
    placed_by_agency: Mapped[str] = mapped_column(String(63))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    released_by: Mapped[str | None] = mapped_column(String(255))
    released_by_agency: Mapped[str | None] = mapped_column(String(63))
    release_reason: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract

    @property
    def active(self) -> bool:
        return self.released_at is None


class DisposalRecord(Base):
    """One disposal record (the kit's ``disposals`` table, mapped to be listed)."""

    __table__ = DISPOSALS

    id: Mapped[uuid.UUID]
    record_class: Mapped[str]
    rule: Mapped[str]
    subject_type: Mapped[str]
    subject_id: Mapped[uuid.UUID]
    cause: Mapped[str]
    schedule_version: Mapped[str]
    disposed_at: Mapped[datetime]
