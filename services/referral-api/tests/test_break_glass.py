"""Break-glass: in an emergency a case worker opens a child their agency is not linked
to, with a written reason, for themselves alone and for a bounded time; every read
under it is audited with the reason, the auditors' agencies are told, and auditors
review the grants. Nothing else widens access."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from referral_scenarios import AUDITOR, PROBLEM, SOCIAL_WORKER, bearer, child_details, referral_body
from test_partner_webhooks import relay

from referral_api.app import create_app
from referral_api.settings import ReferralSettings
from safeguarding_kit.testing import WebhookReceiver

YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner"],
    "sub": "duty.worker@sheffield-youth",
}
COLLEAGUE = {**YOUTH_WORKER, "sub": "another.worker@sheffield-youth"}
GP = {"agency": "norfolk-park-medical-practice", "agency_type": "health", "roles": ["practitioner"]}
SCHOOL_REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
ROLELESS = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": []}
POLICE_OFFICER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
COUNCIL_ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
YOUTH_AUDITOR = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["auditor"]}

REASON = "Found at 02:00 in a hotel with two adults; out-of-hours duty worker planning tonight."


@pytest.fixture
def settings(settings):
    # The webhook receiver runs on this machine.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture
def clock(break_glass_clock):
    break_glass_clock.now = datetime.now(UTC)
    return break_glass_clock


def a_childs_referral(client, tokens) -> dict:
    """A police referral about a child the youth service is not linked to."""
    answer = client.post(
        "/api/v1/referrals",
        json=referral_body(child=child_details(given_name="Kayden", family_name="Rowlinson")),
        headers=bearer(tokens, POLICE_OFFICER),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def break_glass(client, tokens, child_id, who=YOUTH_WORKER, reason=REASON):
    return client.post(
        f"/api/v1/children/{child_id}/break-glass", json={"reason": reason}, headers=bearer(tokens, who)
    )


def reads_of_the_childs_record(client, tokens, referral: dict, who=YOUTH_WORKER) -> list[int]:
    child_id = referral["child_id"]
    headers = bearer(tokens, who)
    return [
        client.get(f"/api/v1/children/{child_id}", headers=headers).status_code,
        client.get(f"/api/v1/referrals/{referral['id']}", headers=headers).status_code,
        client.get(f"/api/v1/referrals/{referral['id']}/history", headers=headers).status_code,
    ]


def test_break_glass_opens_the_record_for_24_hours_then_closes(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    child_id = referral["child_id"]
    assert reads_of_the_childs_record(client, tokens, referral) == [404, 404, 404]

    opened = break_glass(client, tokens, child_id)
    assert opened.status_code == 201, opened.text
    grant = opened.json()
    assert {k: grant[k] for k in ("child_id", "sub", "agency", "reason")} == {
        "child_id": child_id,
        "sub": "duty.worker@sheffield-youth",
        "agency": "sheffield-youth",
        "reason": REASON,
    }
    uuid.UUID(grant["id"])
    granted_at = datetime.fromisoformat(grant["granted_at"])
    assert datetime.fromisoformat(grant["expires_at"]) - granted_at == timedelta(hours=24)

    assert reads_of_the_childs_record(client, tokens, referral) == [200, 200, 200]
    listed = client.get(f"/api/v1/referrals?child_id={child_id}", headers=bearer(tokens, YOUTH_WORKER))
    assert [r["id"] for r in listed.json()["items"]] == [referral["id"]]
    children = client.get("/api/v1/children", headers=bearer(tokens, YOUTH_WORKER)).json()["items"]
    assert [c["id"] for c in children] == [child_id]

    clock.now = granted_at + timedelta(hours=24) - timedelta(seconds=1)
    assert reads_of_the_childs_record(client, tokens, referral) == [200, 200, 200]
    clock.now = granted_at + timedelta(hours=24)
    assert reads_of_the_childs_record(client, tokens, referral) == [404, 404, 404]
    assert client.get("/api/v1/children", headers=bearer(tokens, YOUTH_WORKER)).json()["items"] == []


def test_break_glass_opens_the_childs_missing_episodes_to_read(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    episode = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": referral["child_id"], "reported_missing_at": "2026-11-20T22:00:00Z"},
        headers=bearer(tokens, POLICE_OFFICER),
    ).json()
    url = f"/api/v1/missing-episodes/{episode['id']}"
    assert client.get(url, headers=bearer(tokens, YOUTH_WORKER)).status_code == 404

    assert break_glass(client, tokens, referral["child_id"]).status_code == 201
    assert client.get(url, headers=bearer(tokens, YOUTH_WORKER)).status_code == 200
    listed = client.get(
        f"/api/v1/missing-episodes?child_id={referral['child_id']}", headers=bearer(tokens, YOUTH_WORKER)
    )
    assert [e["id"] for e in listed.json()["items"]] == [episode["id"]]
    found = client.post(
        f"{url}/found",
        json={"found_at": "2026-11-21T02:00:00Z", "found_location": "Hotel"},
        headers={**bearer(tokens, YOUTH_WORKER), "If-Match": '"1"'},
    )
    assert found.status_code == 404  # reading only


def test_each_read_under_break_glass_is_audited_with_the_grant_and_its_reason(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    reads_of_the_childs_record(client, tokens, referral)  # refused: no grant yet
    grant = break_glass(client, tokens, referral["child_id"]).json()
    reads_of_the_childs_record(client, tokens, referral)
    client.get(f"/api/v1/referrals?child_id={referral['child_id']}", headers=bearer(tokens, YOUTH_WORKER))

    log = client.get(f"/api/v1/children/{referral['child_id']}/access-log", headers=bearer(tokens, AUDITOR))
    mine = [e for e in log.json()["items"] if e["actor_sub"] == YOUTH_WORKER["sub"]]
    by_action = {(e["action"], e["resource_type"]): e for e in mine if e["outcome"] == "allowed"}
    assert set(by_action) == {
        ("break_glass", "child"),
        ("read", "child"),
        ("read", "referral"),
        ("read", "referral_history"),
        ("list", "referral"),
    }
    for entry in by_action.values():
        assert entry["detail"] == f"break_glass:{grant['id']} reason:{REASON}"
    # The reads refused before the grant are in the log too, with no grant.
    assert any(e["outcome"] == "denied" and e["detail"] is None for e in mine)


def test_break_glass_opens_the_record_to_that_person_only_and_to_read_only(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    child_id = referral["child_id"]
    assert break_glass(client, tokens, child_id).status_code == 201

    assert reads_of_the_childs_record(client, tokens, referral, COLLEAGUE) == [404, 404, 404]
    changed = client.patch(
        f"/api/v1/children/{child_id}",
        json={"school": "Another School"},
        headers={**bearer(tokens, YOUTH_WORKER), "If-Match": '"1"'},
    )
    assert changed.status_code == 404
    # Referring the child by id would link the youth service to it for good: refused.
    by_id = client.post(
        "/api/v1/referrals",
        json=referral_body(child=None, child_id=child_id),
        headers=bearer(tokens, YOUTH_WORKER),
    )
    assert by_id.status_code == 422
    assert by_id.json()["errors"][0]["pointer"] == "#/child_id"


def test_break_glass_needs_a_written_reason(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    for reason in ("urgent", " " * 30):
        refused = break_glass(client, tokens, referral["child_id"], reason=reason)
        assert refused.status_code == 422
        assert [e["pointer"] for e in refused.json()["errors"]] == ["#/reason"]
    assert reads_of_the_childs_record(client, tokens, referral)[0] == 404


@pytest.mark.parametrize("who", [SCHOOL_REFERRER, ROLELESS], ids=["referrer", "roleless"])
def test_a_referrer_or_a_roleless_token_cannot_break_glass(client, tokens, who):
    referral = a_childs_referral(client, tokens)
    for child_id in (referral["child_id"], str(uuid.uuid4())):  # the same answer: existence stays hidden
        refused = break_glass(client, tokens, child_id, who)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)


def test_a_gp_practice_not_in_the_hub_may_break_glass_as_a_partner(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    assert (
        client.get(f"/api/v1/children/{referral['child_id']}", headers=bearer(tokens, GP)).status_code == 404
    )
    assert break_glass(client, tokens, referral["child_id"], GP).status_code == 201
    assert (
        client.get(f"/api/v1/children/{referral['child_id']}", headers=bearer(tokens, GP)).status_code == 200
    )


def test_break_glass_on_an_unknown_child_is_404(client, tokens, clock):
    assert break_glass(client, tokens, str(uuid.uuid4())).status_code == 404


def test_break_glass_to_a_child_one_already_sees_is_409(client, tokens, clock):
    referral = a_childs_referral(client, tokens)
    answer = break_glass(client, tokens, referral["child_id"], SOCIAL_WORKER)
    assert answer.status_code == 409


def test_break_glass_is_announced_to_the_audits_agencys_webhook_only(client, app, tokens, clock, receiver):
    endpoints = {}
    for admin in (COUNCIL_ADMIN, POLICE_ADMIN):  # the council audits; the police sees every child
        answer = client.post(
            "/api/v1/webhooks/referral-service/endpoints",
            json={"url": receiver.url, "event_types": ["access.break_glass"]},
            headers=bearer(tokens, admin),
        )
        assert answer.status_code == 201, answer.text
        endpoints[admin["agency"]] = answer.json()["id"]
    referral = a_childs_referral(client, tokens)
    grant = break_glass(client, tokens, referral["child_id"]).json()

    relay(app)

    [(_, body, _)] = receiver.deliveries
    event = json.loads(body)
    assert event["type"] == "access.break_glass"
    assert event["data"] == {
        "grant_id": grant["id"],
        "child_id": referral["child_id"],
        "agency": "sheffield-youth",
        # Whom the grant is for (a professional, never the child): the risk service opens
        # the child's risk to that person alone, and the auditors review who broke glass.
        "granted_to": "duty.worker@sheffield-youth",
        "expires_at": event["data"]["expires_at"],
    }
    assert datetime.fromisoformat(event["data"]["expires_at"]) == datetime.fromisoformat(grant["expires_at"])
    for never in (b"hotel", b"Kayden", b"Rowlinson", REASON.encode()):
        assert never not in body
    police_deliveries = client.get(
        f"/api/v1/webhooks/referral-service/endpoints/{endpoints['south-yorkshire-police']}/deliveries",
        headers=bearer(tokens, POLICE_ADMIN),
    )
    assert police_deliveries.json()["items"] == []


def test_auditors_list_break_glass_grants_newest_first(client, tokens, clock):
    first = a_childs_referral(client, tokens)
    second = client.post(
        "/api/v1/referrals",
        json=referral_body(child=child_details(given_name="Tia", family_name="Marsh")),
        headers=bearer(tokens, POLICE_OFFICER),
    ).json()
    older = break_glass(client, tokens, first["child_id"]).json()
    clock.now += timedelta(minutes=5)
    newer = break_glass(client, tokens, second["child_id"], GP).json()

    page = client.get("/api/v1/break-glass?limit=1", headers=bearer(tokens, AUDITOR))
    assert page.status_code == 200, page.text
    assert [g["id"] for g in page.json()["items"]] == [newer["id"]]
    rest = client.get(
        f"/api/v1/break-glass?limit=1&cursor={page.json()['next_cursor']}", headers=bearer(tokens, AUDITOR)
    ).json()
    assert [g["id"] for g in rest["items"]] == [older["id"]]
    assert rest["items"][0]["reason"] == REASON
    assert rest["next_cursor"] is None
    by_agency = client.get("/api/v1/break-glass?agency=sheffield-youth", headers=bearer(tokens, AUDITOR))
    assert [g["id"] for g in by_agency.json()["items"]] == [older["id"]]
    by_child = client.get(
        f"/api/v1/break-glass?child_id={second['child_id']}", headers=bearer(tokens, AUDITOR)
    )
    assert [g["id"] for g in by_child.json()["items"]] == [newer["id"]]


@pytest.mark.parametrize(
    "who", [YOUTH_AUDITOR, SOCIAL_WORKER, YOUTH_WORKER], ids=["auditor-without-audits", "hub", "holder"]
)
def test_only_auditors_of_an_audits_agency_list_break_glass_grants(client, tokens, who):
    assert client.get("/api/v1/break-glass", headers=bearer(tokens, who)).status_code == 403


def test_break_glass_hours_are_bounded(tmp_path):
    assert ReferralSettings(data_dir=tmp_path, environment="test").break_glass_hours == 24
    for hours in (0, 73):
        with pytest.raises(ValidationError, match="break_glass_hours"):
            ReferralSettings(data_dir=tmp_path, environment="test", break_glass_hours=hours)


@pytest.mark.real_commits  # its own app over the same database commits what it writes
def test_break_glass_lasts_as_long_as_the_setting_says(app, settings, tokens, clock):
    # Its own app over the same database; the `app` fixture empties the tables afterwards.
    with TestClient(create_app(settings.model_copy(update={"break_glass_hours": 2}))) as client:
        referral = a_childs_referral(client, tokens)
        grant = break_glass(client, tokens, referral["child_id"]).json()
    span = datetime.fromisoformat(grant["expires_at"]) - datetime.fromisoformat(grant["granted_at"])
    assert span == timedelta(hours=2)
