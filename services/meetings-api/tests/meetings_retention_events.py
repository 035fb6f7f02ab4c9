"""The referral service's information governance events as its relay delivers them to the
meetings service (`child.disposed`, `retention.hold_placed`, `retention.hold_released`),
and a look through every meetings table for what is left of a record."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings_api.database import AUDIT, DISPOSALS
from meetings_api.models import Base
from safeguarding_kit.testing import deliver_event, referral_event


def deliver(client, event: dict[str, Any]) -> int:
    """Post ``event`` to /internal/events signed as the referral service's relay would."""
    return deliver_event(client, event, receiver="meetings-api")


def child_disposed(child: str, *classes: str) -> dict[str, Any]:
    return referral_event(
        "child.disposed",
        child,
        child_id=child,
        record_classes=list(classes or ["exploitation_case_record"]),
        disposed_at=datetime.now(UTC).isoformat(),
    )


def hold_placed(subject_type: str, subject_id: str | None = None, record_class: str | None = None) -> dict:
    hold_id = str(uuid.uuid4())
    return referral_event(
        "retention.hold_placed",
        subject_id if subject_type == "child" and subject_id else hold_id,
        hold_id=hold_id,
        subject_type=subject_type,
        subject_id=subject_id,
        record_class=record_class,
    )


def hold_released(placed: dict[str, Any]) -> dict[str, Any]:
    return referral_event("retention.hold_released", placed["subject"], **placed["data"])


def mentions(session: Session, *needles: str) -> dict[str, int]:
    """Rows of each meetings table (but the audit trail and the disposal records, which keep
    opaque ids by design) whose values hold any of ``needles`` (ids also as SQLite keeps
    them, without dashes)."""
    kept_apart = {AUDIT.log.name, AUDIT.head.name, DISPOSALS.name}
    forms = {form for needle in needles for form in (needle, needle.replace("-", ""))}
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in kept_apart:
            continue
        for row in session.execute(select(table)).mappings():
            text = json.dumps(dict(row), default=str)
            if any(form in text for form in forms):
                found[table.name] = found.get(table.name, 0) + 1
    return found
