"""Break-glass grants: who opened which child, why, and until when."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class BreakGlassGrant(Base):
    """One person's (``sub`` at ``agency``) time-limited access to one child's record."""

    __tablename__ = "break_glass_grants"
    # What every read asks: does this person hold an open grant on this child?
    __table_args__ = (Index("ix_break_glass_grants_holder", "sub", "agency", "child_id", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    agency: Mapped[str] = mapped_column(String(63))
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
