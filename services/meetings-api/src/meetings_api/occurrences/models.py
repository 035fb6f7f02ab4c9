"""Occurrence and attendance tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcDateTime, enum_column


class OccurrenceStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"
    cancelled = "cancelled"


class AttendanceStatus(StrEnum):
    present = "present"
    apologies = "apologies"
    absent = "absent"


class Occurrence(Base):
    """One meeting of a series, identified by the rule's instance it came from."""

    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("series_id", "original_start"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_series.id"), index=True)
    original_start: Mapped[datetime] = mapped_column(UtcDateTime)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[OccurrenceStatus] = mapped_column(
        enum_column(OccurrenceStatus, "occurrence_status"), default=OccurrenceStatus.scheduled
    )
    bank_holiday: Mapped[str | None] = mapped_column(String(100))
    moved: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # When its minutes went under the retention schedule (meetings_api.disposal); then only
    # the meeting's date, attendance by agency and its actions' figure columns are left.
    minutes_disposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class Attendance(Base):
    __tablename__ = "attendance"

    occurrence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("occurrences.id"), primary_key=True)
    agency: Mapped[str] = mapped_column(String(63), primary_key=True)
    person_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency_type: Mapped[AgencyType] = mapped_column(enum_column(AgencyType, "agency_type"))
    role: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus, "attendance_status"))
