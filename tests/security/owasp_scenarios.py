"""What the OWASP suites build the same way in several modules: a meeting to aim at, and
a webhook delivery as the relay reads one (imported by name, like the services' scenario
modules)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any


def one_meeting(client: Any, coordinator: dict[str, str], first_local: str) -> str:
    """A MACE series of one meeting at ``first_local`` (Europe/London wall-clock time),
    made through ``client`` (the gateway or a meetings app); the meeting's id."""
    series = client.post(
        "/api/v1/meetings/series",
        headers=coordinator,
        json={
            "meeting_type": "MACE",
            "title": f"OWASP MACE {uuid.uuid4().hex[:6]}",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": first_local,
            "rrule": "FREQ=WEEKLY;COUNT=1",
            "bank_holiday_rule": "keep",
        },
    )
    assert series.status_code == 201, series.text
    day = datetime.fromisoformat(first_local).replace(tzinfo=UTC)
    window = {"from": (day - timedelta(days=1)).isoformat(), "to": (day + timedelta(days=30)).isoformat()}
    listed = client.get(
        f"/api/v1/meetings/series/{series.json()['id']}/occurrences", params=window, headers=coordinator
    )
    assert listed.status_code == 200, listed.text
    return str(listed.json()["items"][0]["id"])


def webhook_delivery_row(url: str) -> SimpleNamespace:
    """A pending partner-webhook delivery to ``url``, as the relay reads one from its outbox."""
    return SimpleNamespace(
        endpoint_id=uuid.uuid4(),
        endpoint_secret="whsec_" + "s" * 40,
        url=url,
        event_id=uuid.uuid4(),
        subscriber="webhook-test",
        source="referral-api",
        type="referral.received",
        subject=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        data={},
    )
