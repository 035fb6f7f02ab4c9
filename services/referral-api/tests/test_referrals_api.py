"""Referrals through the service's own API, with real signed tokens."""

from __future__ import annotations

import uuid

PROBLEM = "application/problem+json"

SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
POLICE = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["referrer"]}
SOCIAL_WORKER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner"],
}


def referral_body(**overrides):
    body = {
        "concern_types": ["criminal_exploitation"],
        "summary": "Seen getting into cars with older males after school.",
        "urgency": "urgent",
    }
    body.update(overrides)
    return body


def test_school_submits_a_referral_and_reads_it_back(client, tokens):
    headers = tokens.headers(**SCHOOL)
    created = client.post("/api/v1/referrals", json=referral_body(source_reference="SCH-1"), headers=headers)
    assert created.status_code == 201, created.text
    referral = created.json()
    assert referral["status"] == "received"
    assert referral["agency"] == "sheffield-schools"
    assert referral["agency_type"] == "education"
    assert created.headers["location"] == f"/api/v1/referrals/{referral['id']}"

    read = client.get(f"/api/v1/referrals/{referral['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == referral


def test_school_referrer_cannot_read_or_list_a_police_referral(client, tokens):
    police = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**POLICE)).json()
    school = tokens.headers(**SCHOOL)

    read = client.get(f"/api/v1/referrals/{police['id']}", headers=school)
    assert read.status_code == 404
    assert read.headers["content-type"] == PROBLEM
    listed = client.get("/api/v1/referrals", headers=school).json()
    assert police["id"] not in {r["id"] for r in listed["items"]}


def test_social_care_practitioner_lists_every_agencys_referrals(client, tokens):
    for who in (SCHOOL, POLICE):
        client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**who))
    listed = client.get("/api/v1/referrals", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert {r["agency"] for r in listed["items"]} == {"sheffield-schools", "south-yorkshire-police"}


def test_unknown_referral_is_404_problem(client, tokens):
    response = client.get(f"/api/v1/referrals/{uuid.uuid4()}", headers=tokens.headers(**SOCIAL_WORKER))
    assert response.status_code == 404
    assert response.json()["type"].endswith("referral-not-found")


def test_caller_cannot_set_status_or_agency_in_the_body(client, tokens):
    body = referral_body(status="allocated", agency="south-yorkshire-police")
    response = client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"#/status", "#/agency"}
    assert client.get("/api/v1/referrals", headers=tokens.headers(**SOCIAL_WORKER)).json()["items"] == []


def test_bad_fields_are_named_by_json_pointer_and_nothing_is_written(client, tokens):
    body = referral_body(concern_types=["witchcraft"], summary="x" * 20_001)
    response = client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert {e["pointer"] for e in problem["errors"]} == {"#/concern_types/0", "#/summary"}
    assert client.get("/api/v1/referrals", headers=tokens.headers(**SOCIAL_WORKER)).json()["items"] == []


def test_malformed_json_is_a_clear_problem_not_a_500(client, tokens):
    headers = {**tokens.headers(**SCHOOL), "content-type": "application/json"}
    response = client.post("/api/v1/referrals", content=b'{"summary": "unterminated', headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#"
    assert "not valid JSON" in response.json()["errors"][0]["detail"]


def test_same_source_reference_twice_from_one_agency_is_409(client, tokens):
    headers = tokens.headers(**SCHOOL)
    assert (
        client.post(
            "/api/v1/referrals", json=referral_body(source_reference="R-9"), headers=headers
        ).status_code
        == 201
    )
    again = client.post("/api/v1/referrals", json=referral_body(source_reference="R-9"), headers=headers)
    assert again.status_code == 409
    other_agency = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="R-9"),
        headers=tokens.headers(**POLICE),
    )
    assert other_agency.status_code == 201


def test_analyst_without_case_role_cannot_submit(client, tokens):
    headers = tokens.headers(agency="sheffield-council", agency_type="social_care", roles=["analyst"])
    response = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


def test_request_without_token_is_401_problem(client):
    response = client.get("/api/v1/referrals")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_pages_walk_every_referral_once(client, tokens):
    headers = tokens.headers(**SCHOOL)
    made = {
        client.post("/api/v1/referrals", json=referral_body(), headers=headers).json()["id"] for _ in range(5)
    }
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/referrals", params=params, headers=headers).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


def test_limit_above_100_and_forged_cursor_are_refused(client, tokens):
    headers = tokens.headers(**SCHOOL)
    too_many = client.get("/api/v1/referrals", params={"limit": 100_000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["parameter"] == "limit"
    forged = client.get("/api/v1/referrals", params={"cursor": "not-a-cursor"}, headers=headers)
    assert forged.status_code == 400
    assert forged.headers["content-type"] == PROBLEM


def test_every_response_carries_a_request_id(client, tokens):
    mine = client.get(
        "/api/v1/referrals",
        headers={**tokens.headers(**SCHOOL), "X-Request-ID": "partner-req-000123"},
    )
    assert mine.headers["x-request-id"] == "partner-req-000123"
    fresh = client.get("/api/v1/referrals")
    assert len(fresh.headers["x-request-id"]) == 36
    assert fresh.json()["request_id"] == fresh.headers["x-request-id"]
