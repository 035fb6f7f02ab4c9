"""Who governs retention, and the records they judge, in the retention tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from referral_scenarios import AUDITOR, bearer, child_details, screen_and_decide, submit
from sqlalchemy import func, select

from referral_api.children.models import Child
from referral_api.database import AUDIT, DISPOSALS, EVENTS
from referral_api.retention import routes as retention_routes

IG_OFFICER = {**AUDITOR, "sub": "ig.officer@sheffield.gov.example"}  # auditor at an `audits` agency
YOUTH_AUDITOR = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["auditor"]}
POLICE_OFFICER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
CHURCH = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}

HOLDS = "/api/v1/retention/legal-holds"
RUNS = "/api/v1/retention/disposal-runs"
# Far enough ahead that every child's record today is past every rule of the schedule.
LONG_AFTER = datetime(2200, 1, 1, 3, tzinfo=UTC)


def as_of(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Disposal runs judge what is due as if it were ``moment``."""
    monkeypatch.setattr(retention_routes, "utc_now", lambda: moment)


def run(client: Any, tokens: Any, *, dry_run: bool, who: dict[str, Any] = IG_OFFICER) -> dict[str, Any]:
    answer = client.post(RUNS, json={"dry_run": dry_run}, headers=bearer(tokens, who))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def listed(run_body: dict[str, Any], key: str = "records") -> set[str]:
    return {r["subject_id"] for r in run_body[key]}


def place_hold(client: Any, tokens: Any, who: dict[str, Any] = IG_OFFICER, **body: Any) -> Any:
    hold = {"reason": "The inquiry asked for every record; keep them.", "reference": "IICSA-2027-014", **body}
    return client.post(HOLDS, json=hold, headers=bearer(tokens, who))


def release(client: Any, tokens: Any, hold: Any, who: dict[str, Any] = IG_OFFICER) -> Any:
    return client.post(
        f"{HOLDS}/{hold.json()['id']}/release",
        json={"reason": "The inquiry reported and returned the records."},
        headers={**bearer(tokens, who), "If-Match": hold.headers["etag"]},
    )


def referred_child(client: Any, tokens: Any, outcome: str | None = None, **child: Any) -> str:
    """A child a school referred (decided ``outcome`` by the hub, when given); its id."""
    referral = submit(client, tokens, child=child_details(**child))
    if outcome is not None:
        screen_and_decide(client, tokens, referral, outcome)
    return str(referral["child_id"])


def child_exists(client: Any, child_id: str) -> bool:
    with client.app.state.database.sessions() as session:
        return session.get(Child, uuid.UUID(child_id)) is not None


def events_of(client: Any, event_type: str) -> list[dict[str, Any]]:
    events = EVENTS.events
    with client.app.state.database.sessions() as session:
        rows = session.execute(
            select(events.c.subject, events.c.data).where(events.c.type == event_type).order_by(events.c.seq)
        ).all()
    return [{"subject": row.subject, "data": row.data} for row in rows]


def disposal_records(client: Any, subject_id: str) -> list[tuple[str, str, str]]:
    with client.app.state.database.sessions() as session:
        rows = session.execute(
            select(DISPOSALS.c.record_class, DISPOSALS.c.subject_type, DISPOSALS.c.cause).where(
                DISPOSALS.c.subject_id == uuid.UUID(subject_id)
            )
        ).all()
    return sorted((row.record_class, row.subject_type, row.cause) for row in rows)


def audit_actions(client: Any, child_id: str) -> list[tuple[str, str, str]]:
    log = AUDIT.log
    with client.app.state.database.sessions() as session:
        rows = session.execute(
            select(log.c.actor_sub, log.c.action, log.c.resource_type)
            .where(log.c.child_id == uuid.UUID(child_id))
            .order_by(log.c.seq)
        ).all()
    return [(row.actor_sub, row.action, row.resource_type) for row in rows]


def count(client: Any, table: Any, *where: Any) -> int:
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)
