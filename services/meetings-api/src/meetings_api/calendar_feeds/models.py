"""The calendar feed table: who subscribed to which series, and the hash of the feed's token."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from meetings_api.database import Base
from safeguarding_kit.db import UtcDateTime, utc_now


class CalendarFeed(Base):
    """A person's subscription to meeting series. The token itself is never stored: only
    its SHA-256, so a copy of the database opens no feed. The owner is kept as their token
    said when they subscribed (issuer, agency, its type, roles), so each read can ask the
    policy and the current partnership agreement again whether that person may still see
    the series."""

    __tablename__ = "calendar_feeds"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    # None: every series the owner may see, including series created later.
    series_ids: Mapped[list[str] | None] = mapped_column(JSON)
    owner_issuer: Mapped[str] = mapped_column(String(500))
    owner_sub: Mapped[str] = mapped_column(String(255), index=True)
    owner_agency: Mapped[str] = mapped_column(String(63), index=True)
    owner_agency_type: Mapped[str] = mapped_column(String(30))
    owner_roles: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(255))
