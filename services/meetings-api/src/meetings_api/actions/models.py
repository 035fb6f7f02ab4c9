"""Action table."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class Action(Base):
    __tablename__ = "actions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting_series.id"), index=True)
    occurrence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("occurrences.id"), index=True)
    agenda_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agenda_items.id"))
    child_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_agency: Mapped[str] = mapped_column(String(63), index=True)
    owner_person: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus, "action_status"), default=ActionStatus.open
    )
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When it was cancelled, so figures about an earlier instant count it as it was then.
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When meeting.action_overdue was written for it: each overdue action is announced once.
    overdue_announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The action's fixed random key for the cell key method (action figures). Never shown.
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract
