"""OWASP API1:2023 Broken object level authorisation: ids of records the caller may not
see, guessed or learnt elsewhere, in paths, in list filters and nested in bodies. Each
is refused exactly as an id that does not exist would be (404 in a path, 422 with the
same detail in a body, nothing in a list), so nothing tells the two apart.

tests/e2e/test_access_matrix.py already reads a school-referred child's records as every
kind of caller (through the gateway and straight to each service), checks the referral
and missing-episode list filters, a missing episode reported for a child the caller
cannot see, and that refused reads are audited. This module adds what it does not try:
the other direction (a school guessing the ids of what the police sent), assessments by
id, ids nested in referral and assessment bodies, other agencies' webhook endpoints, and
meetings an agency does not attend.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e


def ghost() -> str:
    return str(uuid.uuid4())


def assert_refused_like_a_ghost(problem, answer: httpx.Response, ghost_answer: httpx.Response) -> None:
    refused = problem(answer, 404)
    missing = problem(ghost_answer, 404)
    assert (refused["type"], refused["title"]) == (missing["type"], missing["title"])


@pytest.fixture(params=["gateway", "direct"])
def route(request, stack):
    """Through the gateway, or straight to the service (zero trust: no back door)."""

    def base(service: str) -> str:
        return stack.config.gateway_url if request.param == "gateway" else stack.config.url_of(service)

    return base


def test_school_referrer_cannot_read_a_police_referral_by_guessing_its_id(
    http, as_, police_case, problem, route
):
    school = as_("school referrer")
    base = route("referral-api")
    for path in ("/api/v1/referrals/{}", "/api/v1/referrals/{}/history"):
        answer = http.get(base + path.format(police_case.referral_id), headers=school)
        assert_refused_like_a_ghost(problem, answer, http.get(base + path.format(ghost()), headers=school))
        assert police_case.child["given_name"] not in answer.text


def test_school_practitioner_cannot_read_any_record_of_a_child_the_school_is_not_linked_to(
    http, as_, police_case, problem, route
):
    school = as_("school practitioner")
    records = {
        "child": ("referral-api", "/api/v1/children/{}", police_case.child_id),
        "missing episode": ("referral-api", "/api/v1/missing-episodes/{}", police_case.episode_id),
        "risk": ("risk-api", "/api/v1/risk/children/{}", police_case.child_id),
        "risk history": ("risk-api", "/api/v1/risk/children/{}/assessments", police_case.child_id),
        "assessment": ("risk-api", "/api/v1/risk/assessments/{}", police_case.assessment_id),
    }
    for record, (service, path, record_id) in records.items():
        base = route(service)
        answer = http.get(base + path.format(record_id), headers=school)
        ghost_answer = http.get(base + path.format(ghost()), headers=school)
        assert answer.status_code == 404, f"the school read the police child's {record}"
        assert_refused_like_a_ghost(problem, answer, ghost_answer)


def test_list_filters_show_a_school_nothing_about_a_child_it_is_not_linked_to(gateway, as_, police_case):
    child = {"child_id": police_case.child_id}
    for caller, path, params in (
        ("school referrer", "/api/v1/referrals", child),
        ("school practitioner", "/api/v1/referrals", child),
        ("school practitioner", "/api/v1/missing-episodes", child),
        ("school practitioner", "/api/v1/children", {"limit": 100}),
        ("school practitioner", "/api/v1/risk/children", {"limit": 100}),
        ("school practitioner", "/api/v1/risk/children", {"level": "medium", "limit": 100}),
    ):
        answer = gateway.get(path, params=params, headers=as_(caller))
        assert answer.status_code == 200, f"{caller} listing {path}: {answer.text}"
        seen = {item.get("child_id", item.get("id")) for item in answer.json()["items"]}
        assert police_case.child_id not in seen, f"{caller} found the police child through {path}"


def test_a_referral_naming_a_child_id_the_school_cannot_see_is_refused_like_an_unknown_id_and_links_nothing(
    gateway, as_, new, police_case, problem
):
    school = as_("school referrer")
    about_police_child = gateway.post(
        "/api/v1/referrals",
        headers=school,
        json=new.referral(child=None, child_id=police_case.child_id),
    )
    about_nobody = gateway.post(
        "/api/v1/referrals", headers=school, json=new.referral(child=None, child_id=ghost())
    )
    refused, unknown = problem(about_police_child, 422), problem(about_nobody, 422)
    assert (
        refused["errors"]
        == unknown["errors"]
        == [{"detail": "no child with this id that you can see", "pointer": "#/child_id"}]
    )
    assert refused["detail"] == unknown["detail"]
    # Had the referral been written, the school would now be linked to the child.
    assert (
        gateway.get(
            f"/api/v1/children/{police_case.child_id}", headers=as_("school practitioner")
        ).status_code
        == 404
    )
    listed = gateway.get("/api/v1/referrals", params={"child_id": police_case.child_id}, headers=school)
    assert listed.json()["items"] == []


def test_an_assessment_of_a_child_the_school_is_not_linked_to_is_refused_like_an_unknown_child(
    gateway, as_, police_case, problem
):
    school_assessor = as_("school practitioner")  # holds risk_assessor
    body = {"answers": [{"indicator_code": "missing_repeat", "answer": "absent"}]}
    answer = gateway.post(
        f"/api/v1/risk/children/{police_case.child_id}/assessments",
        headers={**school_assessor, "If-Match": '"1"'},
        json=body,
    )
    ghost_answer = gateway.post(
        f"/api/v1/risk/children/{ghost()}/assessments",
        headers={**school_assessor, "If-Match": '"1"'},
        json=body,
    )
    assert_refused_like_a_ghost(problem, answer, ghost_answer)
    risk = gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=as_("social worker")).json()
    assert risk["assessment_id"] == police_case.assessment_id


def test_a_school_manager_cannot_override_an_assessment_of_a_child_the_school_is_not_linked_to(
    gateway, as_, police_case, problem
):
    school_manager = as_("school manager")
    body = {"level": "low", "reason": "Trying to lower another agency's child's risk."}
    answer = gateway.post(
        f"/api/v1/risk/assessments/{police_case.assessment_id}/override",
        headers={**school_manager, "If-Match": '"1"'},
        json=body,
    )
    ghost_answer = gateway.post(
        f"/api/v1/risk/assessments/{ghost()}/override",
        headers={**school_manager, "If-Match": '"1"'},
        json=body,
    )
    assert_refused_like_a_ghost(problem, answer, ghost_answer)
    assessment = gateway.get(
        f"/api/v1/risk/assessments/{police_case.assessment_id}", headers=as_("social worker")
    )
    assert assessment.json()["override_reason"] is None


@pytest.mark.parametrize(
    "endpoints", ["/api/v1/webhooks/referral-service/endpoints", "/api/v1/webhooks/risk-service/endpoints"]
)
def test_an_admin_cannot_see_remove_or_redeliver_another_agencys_webhook_endpoint(
    gateway, as_, problem, endpoints
):
    owner, other = as_("charity admin"), as_("other charity admin")
    created = gateway.post(
        endpoints,
        headers=owner,
        # A public address (never called: no child is linked to this charity, and it is removed below).
        json={"url": "https://93.184.216.34/owasp-hooks", "event_types": ["referral.received"]}
        if "referral" in endpoints
        else {"url": "https://93.184.216.34/owasp-hooks", "event_types": ["risk.assessed"]},
    )
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["id"]
    try:
        assert endpoint_id not in {e["id"] for e in gateway.get(endpoints, headers=other).json()["items"]}
        for method, path in (
            ("GET", f"{endpoints}/{endpoint_id}/deliveries"),
            ("POST", f"{endpoints}/{endpoint_id}/deliveries/1/redelivery"),
            ("DELETE", f"{endpoints}/{endpoint_id}"),
        ):
            answer = gateway.request(method, path, headers=other)
            ghost_answer = gateway.request(method, path.replace(endpoint_id, ghost()), headers=other)
            assert_refused_like_a_ghost(problem, answer, ghost_answer)
        still = {
            e["id"]: e for e in gateway.get(endpoints, headers=owner, params={"limit": 100}).json()["items"]
        }
        assert still[endpoint_id]["active"] is True
    finally:
        assert gateway.delete(f"{endpoints}/{endpoint_id}", headers=owner).status_code == 204


@pytest.fixture(scope="module")
def meetings(gateway, as_, police_case):
    """Two meetings of a series: the school attends the first only; the second discusses
    the police child."""
    coordinator = as_("coordinator")
    series = gateway.post(
        "/api/v1/meetings/series",
        headers=coordinator,
        json={
            "meeting_type": "MISSING",
            "title": f"OWASP missing meeting {uuid.uuid4().hex[:6]}",
            "chair_agency": "sheffield-social-care",
            "core_agency_types": ["social_care", "police", "education"],
            "quorum_agency_types": ["social_care"],
            "first_meeting_local": "2027-06-02T10:00:00",
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;BYDAY=WE;COUNT=2",
            "bank_holiday_rule": "keep",
        },
    )
    assert series.status_code == 201, series.text
    occurrences = gateway.get(
        f"/api/v1/meetings/series/{series.json()['id']}/occurrences",
        params={"from": "2027-06-01T00:00:00Z", "to": "2027-07-01T00:00:00Z"},
        headers=coordinator,
    ).json()["items"]
    attended, other = occurrences[0]["id"], occurrences[1]["id"]
    attendance = gateway.put(
        f"/api/v1/meetings/occurrences/{attended}/attendance",
        headers=coordinator,
        json={
            "attendees": [
                {
                    "agency": "sheffield-schools",
                    "agency_type": "education",
                    "person_name": "Pat Teacher",
                    "status": "present",
                }
            ]
        },
    )
    assert attendance.status_code == 200, attendance.text
    item = gateway.post(
        f"/api/v1/meetings/occurrences/{other}/agenda/items",
        headers=coordinator,
        json={
            "kind": "child",
            "title": "Child discussed",
            "child_ids": [police_case.child_id],
            "reason": "Police",
        },
    )
    assert item.status_code == 201, item.text
    return attended, other


def test_an_agency_reads_the_meeting_it_attends_but_not_another_by_guessing_its_id(
    gateway, as_, meetings, problem
):
    attended, other = meetings
    school = as_("school practitioner")
    assert gateway.get(f"/api/v1/meetings/occurrences/{attended}/agenda", headers=school).status_code == 200
    for path in ("/api/v1/meetings/occurrences/{}", "/api/v1/meetings/occurrences/{}/agenda"):
        answer = gateway.get(path.format(other), headers=school)
        assert_refused_like_a_ghost(problem, answer, gateway.get(path.format(ghost()), headers=school))
