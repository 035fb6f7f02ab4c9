"""Missing episode table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now
from safeguarding_kit.disclosure import new_record_key


class MissingEpisode(Base):
    __tablename__ = "missing_episodes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    reported_by_agency: Mapped[str] = mapped_column(String(63))
    reported_by: Mapped[str] = mapped_column(String(255))
    reported_missing_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    found_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    found_location: Mapped[str | None] = mapped_column(String(500))
    rhi_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    rhi_offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_recorded_by: Mapped[str | None] = mapped_column(String(255))
    rhi_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Its fixed random key for the cell key method (safeguarding_kit.disclosure).
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract
