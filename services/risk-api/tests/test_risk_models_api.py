"""Admins versioning the partnership's risk model: drafts, publication, immutability."""

from __future__ import annotations

from risk_scenarios import ADMIN, ASSESSOR, PROBLEM, publish

INDICATOR = {
    "code": "missing_repeat",
    "wording": "Missing three or more times in 90 days",
    "category": "missing",
    "exploitation_type": "both",
    "weight": 3,
}
MODEL = {"name": "Regional CE screening", "medium_from": 3, "high_from": 6, "indicators": [INDICATOR]}


def create(client, tokens, body=MODEL):
    return client.post("/api/v1/risk/models", json=body, headers=tokens.headers(**ADMIN))


def test_admin_drafts_versions_numbered_per_model_name(client, tokens):
    first, second = create(client, tokens), create(client, tokens)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert first.json()["status"] == "draft"
    listed = client.get("/api/v1/risk/models", headers=tokens.headers(**ASSESSOR)).json()
    assert [m["version"] for m in listed["items"]] == [2, 1]


def test_a_published_version_never_changes(client, tokens):
    draft = create(client, tokens)
    model_id = draft.json()["id"]
    published = publish(client, tokens, model_id, draft.headers["etag"])
    assert published.status_code == 200
    reweighted = {**MODEL, "indicators": [{**INDICATOR, "weight": 1}]}
    attempt = client.put(
        f"/api/v1/risk/models/{model_id}",
        json=reweighted,
        headers={**tokens.headers(**ADMIN), "If-Match": published.headers["etag"]},
    )
    assert attempt.status_code == 409
    assert attempt.headers["content-type"] == PROBLEM
    after = client.get(f"/api/v1/risk/models/{model_id}", headers=tokens.headers(**ADMIN)).json()
    assert after["indicators"][0]["weight"] == 3


def test_a_new_version_copies_the_published_one_as_a_draft(client, tokens):
    draft = create(client, tokens).json()
    assert publish(client, tokens, draft["id"], '"1"').status_code == 200
    copy = client.post(f"/api/v1/risk/models/{draft['id']}/new-version", headers=tokens.headers(**ADMIN))
    assert copy.status_code == 201
    assert (copy.json()["version"], copy.json()["status"]) == (2, "draft")
    assert copy.json()["indicators"] == draft["indicators"]


def test_a_draft_can_be_reweighted_under_if_match(client, tokens):
    draft = create(client, tokens)
    reweighted = {**MODEL, "indicators": [{**INDICATOR, "weight": 1}]}
    no_etag = client.put(
        f"/api/v1/risk/models/{draft.json()['id']}", json=reweighted, headers=tokens.headers(**ADMIN)
    )
    assert no_etag.status_code == 428
    ok = client.put(
        f"/api/v1/risk/models/{draft.json()['id']}",
        json=reweighted,
        headers={**tokens.headers(**ADMIN), "If-Match": draft.headers["etag"]},
    )
    assert ok.status_code == 200
    assert ok.json()["indicators"][0]["weight"] == 1


def test_risk_assessor_cannot_create_a_model(client, tokens):
    response = client.post("/api/v1/risk/models", json=MODEL, headers=tokens.headers(**ASSESSOR))
    assert response.status_code == 403


def test_caller_cannot_choose_the_version_or_publish_on_create(client, tokens):
    response = create(client, tokens, {**MODEL, "version": 7, "status": "published"})
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/version", "#/status"}


def test_thresholds_and_codes_are_checked(client, tokens):
    assert create(client, tokens, {**MODEL, "medium_from": 6, "high_from": 6}).status_code == 422
    assert create(client, tokens, {**MODEL, "indicators": [INDICATOR, INDICATOR]}).status_code == 422
    bad_code = create(client, tokens, {**MODEL, "indicators": [{**INDICATOR, "code": "Has Spaces"}]})
    assert bad_code.json()["errors"][0]["pointer"] == "#/indicators/0/code"


def test_an_indicator_wording_with_a_nul_character_is_refused_naming_it(client, tokens):
    # Found by fuzzing on PostgreSQL, which cannot store U+0000: it was a 500.
    body = {**MODEL, "indicators": [{**INDICATOR, "wording": "Missing\u0000 often"}]}
    response = create(client, tokens, body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] == "#/indicators/0/wording"
    assert client.get("/api/v1/risk/models", headers=tokens.headers(**ADMIN)).json()["items"] == []
