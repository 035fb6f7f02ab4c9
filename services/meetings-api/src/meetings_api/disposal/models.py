"""The legal holds the referral service announced, as this service needs them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class RetentionHold(Base):
    """A legal hold in force (``retention.hold_placed``, gone at ``retention.hold_released``):
    on a whole record class (``record_class``), or on one child, person or place of concern
    (``subject_id``). While it stands, the minutes it covers are not disposed of."""

    __tablename__ = "retention_holds"

    hold_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40), index=True)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    record_class: Mapped[str | None] = mapped_column(String(40))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
