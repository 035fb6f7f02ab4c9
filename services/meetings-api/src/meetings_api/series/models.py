"""Meeting series tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from meetings_api.recurrence import BankHolidayRule
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class MeetingType(StrEnum):
    MACE = "MACE"
    CETG = "CETG"
    MISSING = "MISSING"
    MAPPING = "MAPPING"
    OTHER = "OTHER"


class MeetingSeries(Base):
    """A recurring meeting: its rule in wall-clock time, who chairs, who must attend."""

    __tablename__ = "meeting_series"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    meeting_type: Mapped[MeetingType] = mapped_column(enum_column(MeetingType, "meeting_type"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    chair_agency: Mapped[str] = mapped_column(String(63))
    core_agency_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    quorum_agency_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_meeting_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int] = mapped_column(default=90)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    rrule: Mapped[str] = mapped_column(String(500))
    bank_holiday_rule: Mapped[BankHolidayRule] = mapped_column(
        enum_column(BankHolidayRule, "bank_holiday_rule"), default=BankHolidayRule.move_to_next_working_day
    )
    location: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    continues_series_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract
