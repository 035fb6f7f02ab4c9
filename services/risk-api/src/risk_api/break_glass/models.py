"""Break-glass grants as the referral service announced them: who may read which child's
risk, until when."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from risk_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class BreakGlassGrant(Base):
    """One person's (``sub`` at ``agency``) time-limited right to read one child's risk,
    under the referral service's grant of the same id."""

    __tablename__ = "break_glass_grants"
    # What every read asks: does this person hold an open grant on this child?
    __table_args__ = (Index("ix_break_glass_grants_holder", "sub", "agency", "child_id", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    sub: Mapped[str] = mapped_column(String(255))
    agency: Mapped[str] = mapped_column(String(63))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
