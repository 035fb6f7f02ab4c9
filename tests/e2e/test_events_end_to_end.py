"""Events between the real processes: a referral opens a screening in the risk service,
and a child rising to high risk goes onto the next MACE agenda - with no call from the
test but the referral and the assessment (and reads to see the outcome)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

pytestmark = pytest.mark.e2e
SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "risk_assessor", "meeting_coordinator"],
}
WAIT_SECONDS = 20


def eventually(probe, what: str):
    """Poll ``probe`` until it returns something truthy (events are delivered in the background)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def gateway(stack):
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15.0) as client:
        yield client


@pytest.fixture(scope="module")
def weekly_mace(stack, stack_tokens):
    """The partnership's one weekly MACE (a second at the same hour would make "the next
    MACE" ambiguous)."""
    tomorrow = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    response = httpx.post(
        stack.config.gateway_url + "/api/v1/meetings/series",
        timeout=15.0,
        headers=stack_tokens.headers(**HUB),
        json={
            "meeting_type": "MACE",
            "title": "Events MACE",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": f"{tomorrow.isoformat()}T10:00:00",
            "rrule": "FREQ=WEEKLY",
            "quorum_agency_types": ["social_care", "police", "health"],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def refer(gateway, tokens, given: str) -> dict:
    body = {
        "child": {
            "given_name": given,
            "family_name": "Evented",
            "date_of_birth": "2011-05-05",
            "gender": "female",
        },
        "referrer": {"name": "Sam Teacher", "role": "DSL"},
        "concern_types": ["sexual_exploitation"],
        "summary": "Seen with older men at the hotel car park.",
        "lawful_basis": {"basis": "consent"},
    }
    response = gateway.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 201, response.text
    return response.json()


def assess_high(gateway, tokens, child_id: str) -> None:
    risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=tokens.headers(**HUB))
    headers = {
        **tokens.headers(**HUB),
        **({"If-Match": risk.headers["etag"]} if risk.status_code == 200 else {}),
    }
    response = gateway.post(
        f"/api/v1/risk/children/{child_id}/assessments",
        headers=headers,
        json={"answers": [{"indicator_code": "disclosure_sexual_exploitation", "answer": "present"}]},
    )
    assert response.status_code == 201, response.text


def next_agenda_children(gateway, tokens, series_id: str) -> set[str]:
    occurrences = gateway.get(
        f"/api/v1/meetings/series/{series_id}/occurrences", headers=tokens.headers(**HUB)
    )
    if occurrences.status_code != 200 or not occurrences.json():
        return set()
    agenda = gateway.get(
        f"/api/v1/meetings/occurrences/{occurrences.json()[0]['id']}/agenda", headers=tokens.headers(**HUB)
    )
    return {c for item in agenda.json() for c in item["child_ids"]} if agenda.status_code == 200 else set()


def test_a_referral_opens_a_screening_and_a_high_assessment_reaches_the_next_mace(
    gateway, stack_tokens, weekly_mace
):
    referral = refer(gateway, stack_tokens, "Eve")
    child_id = referral["child_id"]

    def screening():
        risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB))
        return risk.status_code == 200 and risk.json()["initial_assessment_due"]

    eventually(screening, "the referral opened a screening in the risk service")
    assess_high(gateway, stack_tokens, child_id)
    eventually(
        lambda: child_id in next_agenda_children(gateway, stack_tokens, weekly_mace["id"]),
        "the child went onto the next MACE agenda",
    )


def test_events_wait_for_a_stopped_meetings_service_and_none_is_lost(
    gateway, stack_tokens, stack, weekly_mace
):
    children = [refer(gateway, stack_tokens, name)["child_id"] for name in ("Fay", "Gil")]
    for child_id in children:
        eventually(
            lambda c=child_id: (
                gateway.get(f"/api/v1/risk/children/{c}", headers=stack_tokens.headers(**HUB)).status_code
                == 200
            ),
            "screening opened",
        )
    stack.stop("meetings-api")
    try:
        for child_id in children:
            assess_high(gateway, stack_tokens, child_id)
        time.sleep(1)  # the relay tries, fails, and backs off while the service is down
    finally:
        stack.start("meetings-api")
        stack.wait_ready("meetings-api")
    eventually(
        lambda: set(children) <= next_agenda_children(gateway, stack_tokens, weekly_mace["id"]),
        "both children reached the agenda after the restart",
    )


def test_a_service_killed_between_writing_a_change_and_delivering_its_event_loses_nothing(
    gateway, stack_tokens, stack
):
    # With the risk service down, the referral's event can only wait in the outbox...
    stack.stop("risk-api")
    try:
        child_id = refer(gateway, stack_tokens, "Hal")["child_id"]
        time.sleep(1)  # the relay tries and backs off
        # ...and then the referral service dies without any chance to flush or finish.
        stack.kill("referral-api")
    finally:
        stack.start("risk-api")
        stack.start("referral-api")
        stack.wait_ready("risk-api")
        stack.wait_ready("referral-api")
    eventually(
        lambda: (
            gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB)).status_code
            == 200
        ),
        "the restarted referral service delivered the waiting event: a screening opened",
    )
