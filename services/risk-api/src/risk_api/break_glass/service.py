"""Break-glass in the risk service: each grant the referral service announces is kept,
and opens the child's risk and assessment history, to read only, to the one person it
is for until it expires. No call to the referral service at read time: the event is
the grant."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from risk_api.access import reads_under_break_glass
from risk_api.break_glass.models import BreakGlassGrant
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now

EVENT_TYPE = "access.break_glass"


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a break-glass grant's times carry their offset")
    return moment


def _bounded(value: object, length: int) -> str:
    if not isinstance(value, str) or not value or len(value) > length:
        raise ValueError(f"expected 1 to {length} characters")
    return value


def record_grant(session: Session, event: Mapping[str, Any]) -> None:
    """The referral service gave a break-glass grant (idempotent: a grant already kept
    is left as it is). Bad data raises ``ValueError``/``KeyError`` (the inbox answers 422)."""
    data = event.get("data") or {}
    grant_id = uuid.UUID(str(data["grant_id"]))
    if session.get(BreakGlassGrant, grant_id) is not None:
        return
    expires_at = _aware(data["expires_at"])
    granted_at = _aware(event["time"]) if event.get("time") else utc_now()
    session.add(
        BreakGlassGrant(
            id=grant_id,
            child_id=uuid.UUID(str(data["child_id"])),
            sub=_bounded(data["granted_to"], 255),
            agency=_bounded(data["agency"], 63),
            granted_at=granted_at,
            expires_at=expires_at,
        )
    )
    session.flush()


def open_grant(session: Session, principal: Principal, child_id: uuid.UUID) -> BreakGlassGrant | None:
    """The newest grant the caller (this person at this agency) holds on the child and
    that has not expired; None for everyone else, and for callers who may not break glass."""
    if not reads_under_break_glass(principal):
        return None
    grant: BreakGlassGrant | None = session.scalar(
        select(BreakGlassGrant)
        .where(
            BreakGlassGrant.sub == principal.sub,
            BreakGlassGrant.agency == principal.agency,
            BreakGlassGrant.child_id == child_id,
            BreakGlassGrant.expires_at > utc_now(),
        )
        .order_by(BreakGlassGrant.granted_at.desc())
        .limit(1)
    )
    return grant


def break_glass_note(grant: BreakGlassGrant) -> str:
    """The audit detail of a read under ``grant``: that it was break-glass, and which grant
    (the reason stays with the referral service's grant of the same id)."""
    return f"break_glass:{grant.id}"
