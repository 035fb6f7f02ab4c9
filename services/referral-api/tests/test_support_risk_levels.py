"""Each support's risk level at its start and its end comes from the risk service's
`risk.assessed` events, kept in this service (never asked per read): an assessment heard
of late fills in the supports it precedes, a manager's override (the same assessment sent
again) changes its level but not its time, a redelivery changes nothing, an event about a
duplicate record reaches the record it was merged into, and bad data is refused."""

from __future__ import annotations

import uuid

from referral_scenarios import HUB_MANAGER, bearer, child_details
from retention_scenarios import count
from support_scenarios import (
    HUB_WORKER,
    KEYWORKER,
    at,
    deliver,
    offered,
    read,
    risk_assessed,
    start,
)

from referral_api.support.models import AssessedRiskLevel


def a_started_support(client, tokens, support_clock, child_id: str | None = None) -> dict:
    """Support requested on 1 October 2026 for a new child (or ``child_id``), started on 20 October."""
    if child_id is None:
        registered = client.post("/api/v1/children", json=child_details(), headers=bearer(tokens, HUB_WORKER))
        child_id = registered.json()["id"]
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    support_clock.now = at("2026-10-21T09:00:00+00:00")
    started = start(client, tokens, support, "2026-10-20T15:00:00+00:00")
    assert started.status_code == 200, started.text
    return dict(started.json())


def level_at_start(client, tokens, support: dict) -> str | None:
    return read(client, tokens, f"/api/v1/support/{support['id']}", KEYWORKER).json()["risk_level_at_start"]


def test_an_assessment_heard_of_after_the_start_fills_in_the_level_it_preceded(client, tokens, support_clock):
    support = a_started_support(client, tokens, support_clock)
    child_id = support["child_id"]
    assert support["risk_level_at_start"] is None  # no assessment heard of yet

    assert deliver(client, risk_assessed(child_id, "medium", "2026-10-25T10:00:00+00:00")) == 204
    assert level_at_start(client, tokens, support) is None  # after the start: not its level
    assert deliver(client, risk_assessed(child_id, "high", "2026-10-10T10:00:00+00:00")) == 204
    assert level_at_start(client, tokens, support) == "high"
    assert deliver(client, risk_assessed(child_id, "low", "2026-09-01T10:00:00+00:00")) == 204
    assert level_at_start(client, tokens, support) == "high"  # an older one: the later still holds


def test_an_override_changes_the_assessments_level_but_not_its_time(client, tokens, support_clock):
    support = a_started_support(client, tokens, support_clock)
    assessment_id = str(uuid.uuid4())
    event = risk_assessed(support["child_id"], "medium", "2026-10-10T10:00:00+00:00", assessment_id)
    assert deliver(client, event) == 204
    assert level_at_start(client, tokens, support) == "medium"

    # A manager overrides it to high on 5 November: the risk service announces it again.
    override = risk_assessed(support["child_id"], "high", "2026-11-05T09:00:00+00:00", assessment_id)
    assert deliver(client, override) == 204
    assert level_at_start(client, tokens, support) == "high"
    assert count(client, AssessedRiskLevel) == 1


def test_a_redelivered_event_changes_nothing_twice(client, tokens, support_clock):
    support = a_started_support(client, tokens, support_clock)
    event = risk_assessed(support["child_id"], "high", "2026-10-10T10:00:00+00:00")
    assert deliver(client, event) == 204
    version = read(client, tokens, f"/api/v1/support/{support['id']}", KEYWORKER).json()["version"]
    assert deliver(client, event) == 204
    assert read(client, tokens, f"/api/v1/support/{support['id']}", KEYWORKER).json()["version"] == version
    assert count(client, AssessedRiskLevel) == 1


def test_an_assessment_of_a_merged_duplicate_reaches_the_surviving_record(client, tokens, support_clock):
    surviving = client.post(
        "/api/v1/children", json=child_details(), headers=bearer(tokens, HUB_WORKER)
    ).json()
    duplicate = client.post(
        "/api/v1/children", json=child_details(given_name="Jordon"), headers=bearer(tokens, HUB_WORKER)
    ).json()
    merged = client.post(
        f"/api/v1/children/{surviving['id']}/merge",
        json={"duplicate_id": duplicate["id"], "reason": "Same child: school confirmed the spelling."},
        headers={**bearer(tokens, HUB_MANAGER), "If-Match": f'"{surviving["version"]}"'},
    )
    assert merged.status_code == 200, merged.text
    support = a_started_support(client, tokens, support_clock, surviving["id"])

    assert deliver(client, risk_assessed(duplicate["id"], "high", "2026-10-10T10:00:00+00:00")) == 204
    assert level_at_start(client, tokens, support) == "high"


def test_an_event_whose_data_cannot_be_applied_is_422_and_changes_nothing(client, tokens, support_clock):
    support = a_started_support(client, tokens, support_clock)
    unknown_level = risk_assessed(support["child_id"], "extreme", "2026-10-10T10:00:00+00:00")
    assert deliver(client, unknown_level) == 422
    no_id = risk_assessed(support["child_id"], "high", "2026-10-10T10:00:00+00:00")
    del no_id["data"]["assessment_id"]
    assert deliver(client, no_id) == 422
    assert count(client, AssessedRiskLevel) == 0
    assert level_at_start(client, tokens, support) is None
