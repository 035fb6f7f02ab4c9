"""Risk model tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from risk_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class ModelStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class RiskModel(Base):
    """One version of a risk model; the risk issue adds its indicators and thresholds."""

    __tablename__ = "risk_models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ModelStatus] = mapped_column(
        Enum(
            ModelStatus,
            name="model_status",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ModelStatus.draft,
    )
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
