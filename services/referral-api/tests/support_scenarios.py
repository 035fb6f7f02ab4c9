"""Who works on a child's support, and what they send, in the support tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from referral_scenarios import SOCIAL_WORKER, bearer

from safeguarding_kit.testing import deliver_event

HUB_WORKER = SOCIAL_WORKER  # a practitioner of the hub's own teams (all_cases)
# The commissioned post-abuse service's keyworker (the agreement's `post-abuse-support`).
KEYWORKER = {
    "agency": "safe-space-sheffield",
    "agency_type": "voluntary",
    "roles": ["practitioner"],
    "sub": "keyworker@safe-space.example",
}
# A partner agency never linked to the children of these tests.
YOUNG_CARERS_WORKER = {
    "agency": "sheffield-young-carers",
    "agency_type": "voluntary",
    "roles": ["practitioner"],
}
# The council's performance analyst, with exact figures.
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}

POST_ABUSE = {"kind": "therapeutic_post_abuse_support", "provider": {"service": "post-abuse-support"}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def offer(
    client: Any, tokens: Any, child_id: str, body: dict[str, Any] = POST_ABUSE, who: Any = HUB_WORKER
) -> Any:
    return client.post(f"/api/v1/children/{child_id}/support", json=body, headers=bearer(tokens, who))


def offered(client: Any, tokens: Any, child_id: str, body: dict[str, Any] = POST_ABUSE) -> dict[str, Any]:
    answer = offer(client, tokens, child_id, body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _step(
    client: Any, tokens: Any, support: dict[str, Any], step: str, body: dict[str, Any], who: Any
) -> Any:
    return client.post(
        f"/api/v1/support/{support['id']}/{step}",
        json=body,
        headers={**bearer(tokens, who), "If-Match": f'"{support["version"]}"'},
    )


def start(client: Any, tokens: Any, support: dict[str, Any], started_at: str, who: Any = KEYWORKER) -> Any:
    return _step(client, tokens, support, "start", {"started_at": started_at}, who)


def end(
    client: Any, tokens: Any, support: dict[str, Any], ended_at: str, reason: str, who: Any = KEYWORKER
) -> Any:
    return _step(client, tokens, support, "end", {"ended_at": ended_at, "reason": reason}, who)


def record_contact(
    client: Any, tokens: Any, support: dict[str, Any], who: Any = KEYWORKER, **contact: Any
) -> Any:
    body = {"contacted_on": "2026-11-03", "setting": "secure_unit", "engagement": "engaged", **contact}
    return client.post(f"/api/v1/support/{support['id']}/contacts", json=body, headers=bearer(tokens, who))


def read(client: Any, tokens: Any, path: str, who: Any) -> Any:
    return client.get(path, headers=bearer(tokens, who))


def risk_assessed(child_id: str, level: str, time: str, assessment_id: str | None = None) -> dict[str, Any]:
    """The risk service's `risk.assessed` event for the child."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "risk-api",
        "type": "risk.assessed",
        "subject": child_id,
        "time": time,
        "datacontenttype": "application/json",
        "data": {"assessment_id": assessment_id or str(uuid.uuid4()), "child_id": child_id, "level": level},
    }


def deliver(client: Any, event: dict[str, Any]) -> int:
    """Post ``event`` to /internal/events signed as the risk service's relay would."""
    return deliver_event(client, event, receiver="referral-api")
