"""Meeting series through the service's own API, with real signed tokens."""

from __future__ import annotations

COORDINATOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["meeting_coordinator"],
}
PRACTITIONER = {
    "agency": "south-yorkshire-police",
    "agency_type": "police",
    "roles": ["practitioner"],
}

MACE = {
    "meeting_type": "MACE",
    "title": "Sheffield MACE",
    "chair_agency": "sheffield-social-care",
    "starts_at": "2027-01-06T10:00:00Z",
    "rrule": "FREQ=WEEKLY;BYDAY=WE",
}


def test_coordinator_creates_a_weekly_mace_that_practitioners_can_see(client, tokens):
    created = client.post("/api/v1/meetings/series", json=MACE, headers=tokens.headers(**COORDINATOR))
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "Europe/London"
    listed = client.get("/api/v1/meetings/series", headers=tokens.headers(**PRACTITIONER)).json()
    assert [s["id"] for s in listed["items"]] == [created.json()["id"]]


def test_a_rule_that_is_not_rfc_5545_is_refused_with_its_field(client, tokens):
    body = {**MACE, "rrule": "EVERY WEDNESDAY"}
    response = client.post("/api/v1/meetings/series", json=body, headers=tokens.headers(**COORDINATOR))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/rrule"


def test_a_start_without_utc_offset_is_refused(client, tokens):
    body = {**MACE, "starts_at": "2027-01-06T10:00:00"}
    response = client.post("/api/v1/meetings/series", json=body, headers=tokens.headers(**COORDINATOR))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/starts_at"


def test_practitioner_cannot_create_a_series(client, tokens):
    response = client.post("/api/v1/meetings/series", json=MACE, headers=tokens.headers(**PRACTITIONER))
    assert response.status_code == 403
