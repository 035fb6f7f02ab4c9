"""Break-glass reaches the risk service through the referral service's `access.break_glass`
event, never by a call at read time: the grant opens the child's risk and assessment
history to the one person it is for, to read only, until it expires; every read under it
is audited with the grant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from risk_scenarios import ASSESSOR, COUNCIL_AUDITOR, answers, new_child

from risk_api.break_glass import service as break_glass_service
from safeguarding_kit.testing import deliver_event

pytestmark = pytest.mark.usefixtures("default_model")

YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner"],
    "sub": "duty.worker@sheffield-youth",
}
COLLEAGUE = {**YOUTH_WORKER, "sub": "another.worker@sheffield-youth"}
# The same `sub` at another agency is another person.
NAMESAKE = {
    "agency": "sheffield-schools",
    "agency_type": "education",
    "roles": ["practitioner"],
    "sub": YOUTH_WORKER["sub"],
}
YOUTH_MANAGER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["manager", "risk_assessor"],
    "sub": "duty.manager@sheffield-youth",
}


class Clock:
    """The time grants are checked against, set by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(break_glass_service, "utc_now", clock)
    return clock


def deliver(client, app, event: dict[str, Any]) -> int:
    """Post ``event`` to /internal/events signed as the referral service's relay would."""
    return deliver_event(client, event, receiver="risk-api")


def grant_event(child_id: str, who: dict, granted_at: datetime, **data: Any) -> dict[str, Any]:
    """The referral service's `access.break_glass` event for a 24-hour grant to ``who``."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "referral-api",
        "type": "access.break_glass",
        "subject": child_id,
        "time": granted_at.isoformat(),
        "data": {
            "grant_id": str(uuid.uuid4()),
            "child_id": child_id,
            "agency": who["agency"],
            "granted_to": who["sub"],
            "expires_at": (granted_at + timedelta(hours=24)).isoformat(),
            **data,
        },
    }


def an_assessed_child(client, tokens) -> tuple[str, dict]:
    child = new_child()
    assessed = client.post(
        f"/api/v1/risk/children/{child}/assessments",
        json={"answers": answers("missing_repeat", "older_partner")},
        headers=tokens.headers(**ASSESSOR),
    )
    assert assessed.status_code == 201, assessed.text
    return child, assessed.json()


def reads_of_the_childs_risk(client, tokens, child: str, assessment: dict, who=YOUTH_WORKER) -> list[int]:
    headers = tokens.headers(**who)
    return [
        client.get(f"/api/v1/risk/children/{child}", headers=headers).status_code,
        client.get(f"/api/v1/risk/children/{child}/assessments", headers=headers).status_code,
        client.get(f"/api/v1/risk/assessments/{assessment['id']}", headers=headers).status_code,
    ]


def test_a_break_glass_grant_opens_the_childs_risk_to_that_person_only_until_it_expires(
    client, app, tokens, clock
):
    child, assessment = an_assessed_child(client, tokens)
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [404, 404, 404]

    event = grant_event(child, YOUTH_WORKER, clock.now)
    assert deliver(client, app, event) == 204
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [200, 200, 200]
    history = client.get(f"/api/v1/risk/children/{child}/assessments", headers=tokens.headers(**YOUTH_WORKER))
    assert [a["id"] for a in history.json()["items"]] == [assessment["id"]]
    # For that person only: not a colleague at their agency, nor the same `sub` elsewhere.
    assert reads_of_the_childs_risk(client, tokens, child, assessment, COLLEAGUE) == [404, 404, 404]
    assert reads_of_the_childs_risk(client, tokens, child, assessment, NAMESAKE) == [404, 404, 404]
    # Nor another child.
    other, other_assessment = an_assessed_child(client, tokens)
    assert reads_of_the_childs_risk(client, tokens, other, other_assessment) == [404, 404, 404]

    expires_at = datetime.fromisoformat(event["data"]["expires_at"])
    clock.now = expires_at - timedelta(seconds=1)
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [200, 200, 200]
    clock.now = expires_at
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [404, 404, 404]


def test_a_grant_is_kept_once_however_often_it_is_announced(client, app, tokens, clock):
    child, assessment = an_assessed_child(client, tokens)
    event = grant_event(child, YOUTH_WORKER, clock.now)
    assert deliver(client, app, event) == 204
    assert deliver(client, app, event) == 204  # redelivered: the inbox ignores it
    # Announced again under another event id, with another expiry: the grant stays as it was.
    again = {
        **event,
        "id": str(uuid.uuid4()),
        "data": {**event["data"], "expires_at": (clock.now + timedelta(days=30)).isoformat()},
    }
    assert deliver(client, app, again) == 204
    clock.now += timedelta(hours=24)
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [404, 404, 404]


def test_reads_under_break_glass_are_audited_with_the_grant(client, app, tokens, clock):
    child, assessment = an_assessed_child(client, tokens)
    reads_of_the_childs_risk(client, tokens, child, assessment)  # refused: no grant yet
    event = grant_event(child, YOUTH_WORKER, clock.now)
    assert deliver(client, app, event) == 204
    reads_of_the_childs_risk(client, tokens, child, assessment)

    log = client.get(f"/api/v1/risk/children/{child}/access-log", headers=tokens.headers(**COUNCIL_AUDITOR))
    assert log.status_code == 200, log.text
    mine = [e for e in log.json()["items"] if e["actor_sub"] == YOUTH_WORKER["sub"]]
    allowed = {(e["action"], e["resource_type"]): e["detail"] for e in mine if e["outcome"] == "allowed"}
    note = f"break_glass:{event['data']['grant_id']}"
    assert allowed == {
        ("read", "child_risk"): note,
        ("list", "assessment"): f"{note} 1 items",
        ("read", "assessment"): note,
    }
    # The reads refused before the grant are in the log too, with no grant.
    denied = [e for e in mine if e["outcome"] == "denied"]
    assert denied
    assert all(e["detail"] is None for e in denied)


def test_break_glass_does_not_let_the_person_assess(client, app, tokens, clock):
    child, assessment = an_assessed_child(client, tokens)
    assert deliver(client, app, grant_event(child, YOUTH_MANAGER, clock.now)) == 204
    assert reads_of_the_childs_risk(client, tokens, child, assessment, YOUTH_MANAGER) == [200, 200, 200]
    risk = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**YOUTH_MANAGER))
    headers = {**tokens.headers(**YOUTH_MANAGER), "If-Match": risk.headers["etag"]}

    assessed = client.post(
        f"/api/v1/risk/children/{child}/assessments",
        json={"answers": answers("missing_repeat")},
        headers=headers,
    )
    overridden = client.post(
        f"/api/v1/risk/assessments/{assessment['id']}/override",
        json={"level": "high", "reason": "Professional judgement after tonight's incident."},
        headers={**tokens.headers(**YOUTH_MANAGER), "If-Match": '"1"'},
    )
    screened = client.post(f"/api/v1/risk/children/{child}/screenings", json={}, headers=headers)
    assert [assessed.status_code, overridden.status_code, screened.status_code] == [404, 404, 404]
    history = client.get(f"/api/v1/risk/children/{child}/assessments", headers=tokens.headers(**ASSESSOR))
    assert [a["final_level"] for a in history.json()["items"]] == [assessment["final_level"]]


@pytest.mark.parametrize(
    "bad",
    [
        {"expires_at": "2026-11-30T02:10:00"},  # no offset
        {"granted_to": ""},
        {"granted_to": "x" * 256},
        {"grant_id": "not-a-uuid"},
        {"agency": None, "granted_to": None},
    ],
    ids=["naive-expiry", "no-holder", "holder-too-long", "bad-grant-id", "nobody"],
)
def test_a_grant_event_whose_data_cannot_be_applied_is_refused(client, app, tokens, clock, bad):
    child, assessment = an_assessed_child(client, tokens)
    event = grant_event(child, YOUTH_WORKER, clock.now)
    event["data"].update(bad)
    assert deliver(client, app, event) == 422
    assert reads_of_the_childs_risk(client, tokens, child, assessment) == [404, 404, 404]
