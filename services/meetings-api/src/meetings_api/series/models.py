"""Meeting series tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class MeetingType(StrEnum):
    MACE = "MACE"
    CETG = "CETG"
    MISSING = "MISSING"
    MAPPING = "MAPPING"
    OTHER = "OTHER"


class MeetingSeries(Base):
    """A recurring meeting; the meetings issue adds occurrences, agendas and actions."""

    __tablename__ = "meeting_series"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    meeting_type: Mapped[MeetingType] = mapped_column(
        Enum(
            MeetingType,
            name="meeting_type",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    title: Mapped[str] = mapped_column(String(200))
    chair_agency: Mapped[str] = mapped_column(String(63))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
