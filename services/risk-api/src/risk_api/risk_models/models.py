"""Risk model tables: a model version with its thresholds, and its weighted indicators."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from risk_api.database import Base
from risk_api.vocabularies import ExploitationType, IndicatorCategory
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class ModelStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class RiskModel(Base):
    """One version of a risk model. Once published it never changes: a reweighting is a
    new version (a new record)."""

    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ModelStatus] = mapped_column(
        enum_column(ModelStatus, "model_status"), default=ModelStatus.draft
    )
    medium_from: Mapped[int]
    high_from: Mapped[int]
    age_modifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Maker-checker: one governing admin asks for publication, with what it would change
    # (from impact analysis, kept as they saw it); a second one approves, which publishes.
    publication_requested_by: Mapped[str | None] = mapped_column(String(255))
    publication_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    publication_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_by: Mapped[str | None] = mapped_column(String(255))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    row_version: Mapped[int] = mapped_column(default=1)

    indicators: Mapped[list[RiskIndicator]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="RiskIndicator.position"
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class RiskIndicator(Base):
    __tablename__ = "risk_indicators"
    __table_args__ = (UniqueConstraint("model_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_models.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(60))
    wording: Mapped[str] = mapped_column(String(500))
    category: Mapped[IndicatorCategory] = mapped_column(enum_column(IndicatorCategory, "indicator_category"))
    exploitation_type: Mapped[ExploitationType] = mapped_column(
        enum_column(ExploitationType, "exploitation_type")
    )
    weight: Mapped[int]
    hard_trigger: Mapped[bool] = mapped_column(default=False)
