"""Risk models through the service's own API, with real signed tokens."""

from __future__ import annotations

ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
ASSESSOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["risk_assessor"],
}


def test_admin_drafts_versions_numbered_per_model_name(client, tokens):
    body = {"name": "Regional CE screening", "description": "Weighted indicators."}
    first = client.post("/api/v1/risk/models", json=body, headers=tokens.headers(**ADMIN))
    second = client.post("/api/v1/risk/models", json=body, headers=tokens.headers(**ADMIN))
    assert first.status_code == second.status_code == 201
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert first.json()["status"] == "draft"

    listed = client.get("/api/v1/risk/models", headers=tokens.headers(**ASSESSOR)).json()
    assert [m["version"] for m in listed["items"]] == [2, 1]


def test_risk_assessor_cannot_create_a_model(client, tokens):
    response = client.post("/api/v1/risk/models", json={"name": "Mine"}, headers=tokens.headers(**ASSESSOR))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_caller_cannot_choose_the_version_or_publish_on_create(client, tokens):
    body = {"name": "Regional CE screening", "version": 7, "status": "published"}
    response = client.post("/api/v1/risk/models", json=body, headers=tokens.headers(**ADMIN))
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/version", "#/status"}
