"""Agenda item and decision tables. Children appear by opaque id only."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class ItemKind(StrEnum):
    child = "child"
    children_group = "children_group"
    person_of_concern = "person_of_concern"
    place_of_concern = "place_of_concern"
    other = "other"


class ItemSource(StrEnum):
    generated = "generated"
    manual = "manual"


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("occurrence_id", "generation_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurrence_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("occurrences.id"), index=True)
    position: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind, "item_kind"))
    source: Mapped[ItemSource] = mapped_column(enum_column(ItemSource, "item_source"))
    generation_key: Mapped[str | None] = mapped_column(String(200))
    child_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject_id: Mapped[uuid.UUID | None]
    title: Mapped[str] = mapped_column(String(300))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agenda_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
