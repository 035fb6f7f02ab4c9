"""Assessors scoring children, managers using professional judgement, and the
child's risk over time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from risk_scenarios import ASSESSOR, MANAGER, POLICE_PRACTITIONER, PROBLEM, YOUTH_WORKER, answers, new_child

pytestmark = pytest.mark.usefixtures("default_model")


def assess(client, tokens, child_id, body, who=ASSESSOR, etag=None):
    headers = tokens.headers(**who)
    if etag:
        headers["If-Match"] = etag
    return client.post(f"/api/v1/risk/children/{child_id}/assessments", json=body, headers=headers)


def risk_etag(client, tokens, child_id):
    return client.get(f"/api/v1/risk/children/{child_id}", headers=tokens.headers(**ASSESSOR)).headers["etag"]


def test_an_assessment_shows_score_level_and_why(client, tokens):
    child = new_child()
    body = {
        "age_at_assessment": 15,
        "answers": answers("missing_repeat", "exclusion", "unexplained_money", absent=("substance_use",)),
    }
    response = assess(client, tokens, child, body)
    assert response.status_code == 201, response.text
    assessment = response.json()
    assert assessment["score"] == 7
    assert assessment["computed_level"] == assessment["final_level"] == "low"
    contributions = {a["indicator_code"]: a["contribution"] for a in assessment["answers"]}
    assert contributions == {"missing_repeat": 3, "exclusion": 2, "unexplained_money": 2, "substance_use": 0}
    assert sum(contributions.values()) == assessment["score"]


def test_a_disclosure_makes_the_child_high_whatever_the_score(client, tokens):
    response = assess(client, tokens, new_child(), {"answers": answers("disclosure_sexual_exploitation")})
    assert response.json()["final_level"] == "high"
    assert response.json()["hard_triggers"] == ["disclosure_sexual_exploitation"]


def test_a_young_child_gets_the_age_points(client, tokens):
    body = {"age_at_assessment": 12, "answers": answers("missing_repeat", "exclusion")}
    response = assess(client, tokens, new_child(), body).json()
    assert (response["score"], response["age_points"], response["final_level"]) == (8, 3, "medium")


def test_an_unknown_indicator_is_422_and_nothing_is_written(client, tokens):
    child = new_child()
    response = assess(client, tokens, child, {"answers": answers("missing_repeat", "made_up_indicator")})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] == "#/answers/1/indicator_code"
    assert client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR)).status_code == 404


def test_a_managers_override_shows_both_levels_and_the_reason(client, tokens):
    child = new_child()
    assessment = assess(client, tokens, child, {"answers": answers("missing_repeat")})
    reason = "Intelligence from CETG: adults linked to a known group are grooming him."
    overridden = client.post(
        f"/api/v1/risk/assessments/{assessment.json()['id']}/override",
        json={"level": "high", "reason": reason},
        headers={**tokens.headers(**MANAGER), "If-Match": assessment.headers["etag"]},
    )
    assert overridden.status_code == 200, overridden.text
    body = overridden.json()
    assert (body["computed_level"], body["final_level"], body["override_reason"]) == ("low", "high", reason)
    assert body["override_by"] == "manager-1"
    risk = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR)).json()
    assert risk["current_level"] == "high"


def test_a_non_managers_override_is_403(client, tokens):
    assessment = assess(client, tokens, new_child(), {"answers": answers("missing_repeat")})
    response = client.post(
        f"/api/v1/risk/assessments/{assessment.json()['id']}/override",
        json={"level": "high", "reason": "I think it is higher than that."},
        headers={**tokens.headers(**ASSESSOR), "If-Match": assessment.headers["etag"]},
    )
    assert response.status_code == 403


def test_a_child_assessed_three_times_shows_history_newest_first_and_the_trend(client, tokens):
    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})  # low
    assess(
        client,
        tokens,
        child,
        {"answers": answers("missing_repeat", "exclusion", "debt_bondage")},
        etag=risk_etag(client, tokens, child),
    )  # medium (8)
    assess(
        client,
        tokens,
        child,
        {"answers": answers("hotel_with_adults")},
        etag=risk_etag(client, tokens, child),
    )
    history = client.get(
        f"/api/v1/risk/children/{child}/assessments", headers=tokens.headers(**ASSESSOR)
    ).json()
    assert [a["final_level"] for a in history["items"]] == ["high", "medium", "low"]
    risk = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR)).json()
    assert (risk["current_level"], risk["previous_level"], risk["trend"], risk["assessments_count"]) == (
        "high",
        "medium",
        "rising",
        3,
    )
    due = datetime.fromisoformat(risk["next_review_due"])
    assert 27 <= (due - datetime.now(UTC)).days <= 28  # high: review within 28 days


def test_a_second_assessment_needs_if_match_and_a_stale_one_is_412(client, tokens):
    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})
    seen = risk_etag(client, tokens, child)
    assert assess(client, tokens, child, {"answers": answers("exclusion")}).status_code == 428
    assert assess(client, tokens, child, {"answers": answers("exclusion")}, etag=seen).status_code == 201
    stale = assess(client, tokens, child, {"answers": answers("substance_use")}, etag=seen)
    assert stale.status_code == 412
    history = client.get(
        f"/api/v1/risk/children/{child}/assessments", headers=tokens.headers(**ASSESSOR)
    ).json()
    assert len(history["items"]) == 2


def test_police_practitioners_read_risk_but_a_youth_worker_cannot(client, tokens):
    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})
    assert (
        client.get(
            f"/api/v1/risk/children/{child}", headers=tokens.headers(**POLICE_PRACTITIONER)
        ).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**YOUTH_WORKER)).status_code
        == 404
    )
    assert (
        assess(
            client, tokens, new_child(), {"answers": answers("missing_repeat")}, who=YOUTH_WORKER
        ).status_code
        == 404
    )


def test_screening_opened_on_a_friday_puts_the_initial_assessment_ten_working_days_later(client, tokens):
    child = new_child()
    response = client.post(
        f"/api/v1/risk/children/{child}/screenings",
        json={"opened_at": "2026-11-13T09:00:00Z"},
        headers=tokens.headers(**ASSESSOR),
    )
    assert response.status_code == 200
    assert response.json()["initial_assessment_due"] == "2026-11-27T09:00:00Z"


def test_a_draft_model_cannot_be_used_to_assess(client, tokens):
    admin = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
    draft = client.post(
        "/api/v1/risk/models",
        headers=tokens.headers(**admin),
        json={
            "name": "Trial weights",
            "medium_from": 2,
            "high_from": 4,
            "indicators": [
                {
                    "code": "missing_repeat",
                    "wording": "Missing often",
                    "category": "missing",
                    "exploitation_type": "both",
                    "weight": 1,
                }
            ],
        },
    ).json()
    response = assess(
        client, tokens, new_child(), {"model_id": draft["id"], "answers": answers("missing_repeat")}
    )
    assert response.status_code == 409


def test_a_youth_worker_reads_the_risk_of_a_child_their_agency_is_linked_to(client, tokens):
    import json
    import time
    import uuid

    from safeguarding_kit.events import sign
    from safeguarding_kit.settings import DEV_EVENTS_SECRET

    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})
    assert (
        client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**YOUTH_WORKER)).status_code
        == 404
    )
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "referral-api",
        "type": "child.agency_linked",
        "subject": child,
        "time": "2026-11-25T09:00:00Z",
        "data": {"child_id": child, "agency": "sheffield-youth", "reason": "referral"},
    }
    body, stamp = json.dumps(event).encode(), int(time.time())
    signed = {
        "webhook-id": "m-1",
        "webhook-timestamp": str(stamp),
        "content-type": "application/cloudevents+json",
        "webhook-signature": sign(DEV_EVENTS_SECRET, "m-1", stamp, body),
    }
    assert client.post("/internal/events", content=body, headers=signed).status_code == 204
    assert (
        client.post("/internal/events", content=body, headers=signed).status_code == 204
    )  # redelivered: no-op
    assert (
        client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**YOUTH_WORKER)).status_code
        == 200
    )
    forged = {**signed, "webhook-signature": "v1,AAAA"}
    assert client.post("/internal/events", content=body, headers=forged).status_code == 401


def test_if_match_star_on_an_override_is_refused_because_it_must_name_the_version_read(client, tokens):
    child = new_child()
    assessment = assess(client, tokens, child, {"answers": answers("missing_repeat")})
    refused = client.post(
        f"/api/v1/risk/assessments/{assessment.json()['id']}/override",
        json={"level": "high", "reason": "Intelligence from CETG: adults linked to a known group."},
        headers={**tokens.headers(**MANAGER), "If-Match": "*"},
    )
    assert refused.status_code == 428
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "urn:safeguarding:problem:if-match-required"
    risk = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR)).json()
    assert risk["current_level"] == "low"


def test_an_assessment_not_sent_as_json_is_the_documented_400_and_nothing_is_written(client, tokens):
    child = new_child()
    response = client.post(
        f"/api/v1/risk/children/{child}/assessments",
        content=json.dumps({"answers": answers("missing_repeat")}),
        headers={**tokens.headers(**ASSESSOR), "content-type": "text/plain"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:safeguarding:problem:unreadable-body"
    assert client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR)).status_code == 404
