"""The information governance team reading everything the tracker holds about a child for
their subject access request: assessments and the level over time, assessors by agency
only, and the read itself audited."""

from __future__ import annotations

import pytest
from risk_scenarios import ASSESSOR, COUNCIL_AUDITOR, MANAGER, answers, new_child

pytestmark = pytest.mark.usefixtures("default_model")

SCHOOL_AUDITOR = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["auditor"]}


def extract_url(child_id: str) -> str:
    return f"/api/v1/risk/children/{child_id}/subject-access-extract"


def assess(client, tokens, child_id, body, etag=None):
    headers = {**tokens.headers(**ASSESSOR), **({"If-Match": etag} if etag else {})}
    response = client.post(f"/api/v1/risk/children/{child_id}/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def test_the_extract_holds_every_assessment_and_the_level_over_time_with_assessors_by_agency(client, tokens):
    child = new_child()
    first = assess(client, tokens, child, {"age_at_assessment": 15, "answers": answers("missing_repeat")})
    risk = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR))
    second = assess(
        client,
        tokens,
        child,
        {"answers": answers("disclosure_sexual_exploitation", "missing_repeat")},
        etag=risk.headers["etag"],
    )
    reason = "CETG intelligence: adults linked to a known group are grooming him."
    overridden = client.post(
        f"/api/v1/risk/assessments/{first.json()['id']}/override",
        json={"level": "medium", "reason": reason},
        headers={**tokens.headers(**MANAGER), "If-Match": first.headers["etag"]},
    )
    assert overridden.status_code == 200, overridden.text

    response = client.get(extract_url(child), headers=tokens.headers(**COUNCIL_AUDITOR))
    assert response.status_code == 200, response.text
    extract = response.json()
    assert extract["current_risk"]["current_level"] == "high"
    assessments = extract["assessments"]
    assert [a["id"] for a in assessments] == [first.json()["id"], second.json()["id"]]  # oldest first
    assert {a["assessed_agency"] for a in assessments} == {"sheffield-social-care"}
    assert (assessments[0]["overridden"], assessments[0]["override_reason"]) == (True, reason)
    assert assessments[0]["answers"][0]["indicator_wording"]
    assert [(c["level"], c["assessment_id"]) for c in extract["level_history"]] == [
        ("medium", first.json()["id"]),
        ("high", second.json()["id"]),
    ]
    assert any(
        (r["agency"], r["roles"], r["action"]) == ("sheffield-social-care", "risk_assessor", "create")
        for r in extract["access"]
    )
    # Nobody's own id: the assessor and the manager are given by agency only.
    assert "assessor-1" not in response.text
    assert "manager-1" not in response.text


def test_each_extract_is_an_audited_read_of_the_childs_risk(client, tokens):
    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})
    client.get(extract_url(child), headers=tokens.headers(**COUNCIL_AUDITOR, sub="ig.officer"))
    log = client.get(f"/api/v1/risk/children/{child}/access-log", headers=tokens.headers(**COUNCIL_AUDITOR))
    newest = log.json()["items"][0]
    assert (newest["actor_sub"], newest["action"], newest["resource_type"]) == (
        "ig.officer",
        "read",
        "subject_access_extract",
    )


def test_a_child_never_screened_here_has_an_empty_extract(client, tokens):
    child = new_child()
    response = client.get(extract_url(child), headers=tokens.headers(**COUNCIL_AUDITOR))
    assert response.status_code == 200
    body = response.json()
    assert (body["child_id"], body["current_risk"], body["assessments"], body["level_history"]) == (
        child,
        None,
        [],
        [],
    )


@pytest.mark.parametrize(
    "who", [ASSESSOR, MANAGER, SCHOOL_AUDITOR], ids=["assessor", "manager", "school-auditor"]
)
def test_only_information_governance_reads_the_extract(client, tokens, who):
    child = new_child()
    assess(client, tokens, child, {"answers": answers("missing_repeat")})
    assert client.get(extract_url(child), headers=tokens.headers(**who)).status_code == 403
