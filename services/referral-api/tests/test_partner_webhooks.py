"""Partner webhooks: a police force's admin registers an endpoint; its receiver gets
signed CloudEvents about the children the force may see, ids only; a receiver that
fails is retried with back-off, given up on, and redelivered on request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from referral_scenarios import SCHOOL, child_details, referral_body

from referral_api.database import EVENTS
from safeguarding_kit.events import RelayPolicy, relay_once, verify_signature
from safeguarding_kit.testing import WebhookReceiver

POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SCHOOL_ADMIN = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["admin"]}
OTHER_SCHOOL = {"agency": "rotherham-schools", "agency_type": "education", "roles": ["referrer"]}
QUICK_RETRIES = RelayPolicy(max_attempts=3, backoff_base_seconds=0.2, private_addresses_allowed=True)


@pytest.fixture
def settings(settings):
    # The receiver runs on this machine, so private addresses are allowed for this module.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


def relay(app, policy: RelayPolicy = QUICK_RETRIES) -> None:
    """Run the relay until nothing is due (the test's stand-in for the relay thread)."""
    with httpx.Client(timeout=5) as http:
        while relay_once(
            app.state.database, EVENTS, http, app.state.settings.events_signing_secret, "t", policy
        ):
            pass


def register(client, tokens, admin: dict, url: str, types: list[str]) -> dict:
    answer = client.post(
        "/api/v1/webhooks/referral-service/endpoints",
        json={"url": url, "event_types": types},
        headers=tokens.headers(**admin),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_partner_receives_signed_events_that_carry_ids_and_never_names(client, app, tokens, receiver):
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["referral.received"])
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["agency"] == "south-yorkshire-police"
    sent = client.post(
        "/api/v1/referrals",
        json=referral_body(child=child_details(given_name="Kayden", family_name="Rowlinson")),
        headers=tokens.headers(**SCHOOL),
    )
    assert sent.status_code == 201

    relay(app)

    [(headers, body, _)] = receiver.deliveries
    assert verify_signature(endpoint["secret"], headers, body)
    assert not verify_signature(endpoint["secret"], headers, body.replace(b"urgent", b"routine"))
    assert not verify_signature(
        app.state.settings.events_signing_secret, headers, body
    )  # not the internal one
    event = json.loads(body)
    assert event["specversion"] == "1.0"
    assert event["type"] == "referral.received"
    assert event["data"]["referral_id"] == sent.json()["id"]
    for identifying in (b"Kayden", b"Rowlinson", b"2011-03-14"):
        assert identifying not in body
    # The list of endpoints never shows the secret again.
    listed = client.get("/api/v1/webhooks/referral-service/endpoints", headers=tokens.headers(**POLICE_ADMIN))
    assert [e["id"] for e in listed.json()["items"]] == [endpoint["id"]]
    assert listed.json()["next_cursor"] is None
    assert "secret" not in listed.json()["items"][0]


def test_a_school_hears_only_of_the_children_it_is_linked_to(client, app, tokens, receiver):
    register(client, tokens, SCHOOL_ADMIN, receiver.url, ["referral.received"])
    own = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL))
    other_child = child_details(given_name="Ava", family_name="Other", date_of_birth="2012-07-01")
    other = client.post(
        "/api/v1/referrals", json=referral_body(child=other_child), headers=tokens.headers(**OTHER_SCHOOL)
    )
    assert own.status_code == other.status_code == 201

    relay(app)

    assert [e["data"]["referral_id"] for e in receiver.events()] == [own.json()["id"]]


def test_a_failing_receiver_is_retried_with_back_off_then_dead_and_redelivered_on_request(
    client, app, tokens, receiver
):
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["referral.received"])
    receiver.status = 500
    assert (
        client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).status_code
        == 201
    )
    history_url = f"/api/v1/webhooks/referral-service/endpoints/{endpoint['id']}/deliveries"

    while len(receiver.deliveries) < QUICK_RETRIES.max_attempts:
        relay(app)
        time.sleep(0.02)
    relay(app)  # nothing more: it is dead

    assert len(receiver.deliveries) == 3
    first, second, third = (at for _, _, at in receiver.deliveries)
    # Waits of 0.2 s then 0.4 s, each counted from just before the previous try was sent.
    assert second - first >= 0.1
    assert third - second >= 0.3
    [dead] = client.get(history_url, headers=tokens.headers(**POLICE_ADMIN)).json()["items"]
    assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 3, "HTTP 500")

    receiver.status = 204
    again = client.post(f"{history_url}/{dead['id']}/redelivery", headers=tokens.headers(**POLICE_ADMIN))
    assert again.status_code == 202
    assert again.json()["status"] == "pending"
    relay(app)

    [delivered] = client.get(history_url, headers=tokens.headers(**POLICE_ADMIN)).json()["items"]
    assert delivered["status"] == "delivered"
    headers, body, _ = receiver.deliveries[-1]
    assert verify_signature(endpoint["secret"], headers, body)
    assert len({h["webhook-id"] for h, _, _ in receiver.deliveries}) == 1  # the same message each time


def test_another_agency_cannot_see_or_redeliver_an_endpoint_and_a_referrer_cannot_register(
    client, tokens, receiver
):
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["referral.received"])
    base = f"/api/v1/webhooks/referral-service/endpoints/{endpoint['id']}"
    assert client.get(f"{base}/deliveries", headers=tokens.headers(**SCHOOL_ADMIN)).status_code == 404
    assert (
        client.post(f"{base}/deliveries/1/redelivery", headers=tokens.headers(**SCHOOL_ADMIN)).status_code
        == 404
    )
    assert client.delete(base, headers=tokens.headers(**SCHOOL_ADMIN)).status_code == 404
    assert (
        client.get(
            "/api/v1/webhooks/referral-service/endpoints", headers=tokens.headers(**SCHOOL_ADMIN)
        ).json()["items"]
        == []
    )
    refused = client.post(
        "/api/v1/webhooks/referral-service/endpoints",
        json={"url": receiver.url, "event_types": ["referral.received"]},
        headers=tokens.headers(**SCHOOL),
    )
    assert refused.status_code == 403


def test_a_removed_endpoint_gets_nothing_more(client, app, tokens, receiver):
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["referral.received"])
    removed = client.delete(
        f"/api/v1/webhooks/referral-service/endpoints/{endpoint['id']}",
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert removed.status_code == 204
    assert (
        client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).status_code
        == 201
    )
    relay(app)
    assert receiver.deliveries == []


def test_only_published_event_types_can_be_subscribed_to(client, tokens, receiver):
    answer = client.post(
        "/api/v1/webhooks/referral-service/endpoints",
        json={"url": receiver.url, "event_types": ["referral.received", "child.agency_linked"]},
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "#/event_types"
    assert "child.agency_linked" in answer.json()["detail"]


@pytest.mark.parametrize("url", ["https://127.0.0.1:8101/internal/events", "https://169.254.169.254/latest/"])
def test_a_webhook_pointing_inside_the_platforms_network_is_refused(client, app, tokens, url):
    app.state.settings = app.state.settings.model_copy(update={"webhook_private_addresses_allowed": False})
    answer = client.post(
        "/api/v1/webhooks/referral-service/endpoints",
        json={"url": url, "event_types": ["referral.received"]},
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["pointer"] == "#/url"
    assert "not a public address" in answer.json()["detail"]
    assert (
        client.get(
            "/api/v1/webhooks/referral-service/endpoints", headers=tokens.headers(**POLICE_ADMIN)
        ).json()["items"]
        == []
    )


def test_a_webhook_address_that_turns_private_after_registration_is_refused_at_delivery(
    client, app, tokens, receiver
):
    # Registered while allowed (as a name that later re-resolves to a private address would be).
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["referral.received"])
    assert (
        client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).status_code
        == 201
    )

    relay(app, RelayPolicy(max_attempts=1, private_addresses_allowed=False))

    assert receiver.deliveries == []
    history = client.get(
        f"/api/v1/webhooks/referral-service/endpoints/{endpoint['id']}/deliveries",
        headers=tokens.headers(**POLICE_ADMIN),
    ).json()["items"]
    assert history[0]["status"] == "dead"
    assert history[0]["last_error"].startswith("refused: ")  # never sent: plain http to a local address
