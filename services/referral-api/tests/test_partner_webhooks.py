"""Partner webhooks: a police force's admin registers an endpoint; its receiver gets
signed CloudEvents about the children the force may see, ids only; a receiver that
fails is retried with back-off, given up on, and redelivered on request."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from referral_scenarios import (
    HUB_MANAGER,
    POLICE,
    SCHOOL,
    SOCIAL_WORKER,
    YOUTH_WORKER,
    child_details,
    referral_body,
)
from sqlalchemy import select

from referral_api.app import PARTNER_EVENTS
from referral_api.database import EVENTS
from safeguarding_kit import outbound_urls
from safeguarding_kit.events import RelayPolicy, relay_once, verify_signature
from safeguarding_kit.testing import WebhookReceiver
from safeguarding_kit.webhooks.contract import delivery_errors, request_example, webhook_example_errors

POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SCHOOL_ADMIN = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["admin"]}
OTHER_SCHOOL = {"agency": "rotherham-schools", "agency_type": "education", "roles": ["referrer"]}
COUNCIL_ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
POLICE_OFFICER = {**POLICE, "roles": ["practitioner"]}
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


def test_a_removed_endpoints_secret_is_not_kept_for_retries_of_its_create(client, app, tokens, receiver):
    # The answer to a create is kept so a retry gets it again, and it holds the secret.
    headers = {**tokens.headers(**POLICE_ADMIN), "Idempotency-Key": "0ddba11-webhook-1"}
    body = {"url": receiver.url, "event_types": ["referral.received"]}
    endpoint = client.post("/api/v1/webhooks/referral-service/endpoints", json=body, headers=headers).json()
    retried = client.post("/api/v1/webhooks/referral-service/endpoints", json=body, headers=headers).json()
    assert retried["secret"] == endpoint["secret"]

    client.delete(
        f"/api/v1/webhooks/referral-service/endpoints/{endpoint['id']}",
        headers=tokens.headers(**POLICE_ADMIN),
    )

    keys = app.state.idempotency_keys
    with app.state.database.sessions() as session:
        kept = [json.dumps(row.response_body) for row in session.execute(select(keys))]
    assert not any(endpoint["secret"] in answer for answer in kept)


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


@pytest.fixture
def public_dns(monkeypatch):
    """Names resolve as public DNS would have them, without the network: the example's
    host to one of its public addresses; anything else does not resolve."""
    looked_up: list[str] = []

    def resolve(host: str, port: int, **_: object) -> list:
        looked_up.append(host)
        if host != "example.com":
            raise outbound_urls.UnsafeUrl(f"the host {host!r} cannot be resolved")
        return [ipaddress.ip_address("93.184.215.14")]

    monkeypatch.setattr(outbound_urls, "resolved_addresses", resolve)
    return looked_up


def test_the_specs_own_webhook_endpoint_example_registers_under_the_production_url_policy(
    client, app, tokens, public_dns
):
    app.state.settings = app.state.settings.model_copy(update={"webhook_private_addresses_allowed": False})
    example = request_example(app.openapi(), "createReferralWebhookEndpoint")

    answer = client.post(
        "/api/v1/webhooks/referral-service/endpoints", json=example, headers=tokens.headers(**POLICE_ADMIN)
    )

    assert answer.status_code == 201, answer.text
    assert public_dns == ["example.com"]  # the address really was checked
    assert (answer.json()["url"], answer.json()["event_types"]) == (
        example["url"],
        sorted(example["event_types"]),
    )


def test_every_event_a_partner_can_hear_of_is_delivered_as_the_specs_webhooks_describe(
    client, app, tokens, receiver, break_glass_clock
):
    break_glass_clock.now = datetime.now(UTC)
    spec = app.openapi()
    published = list(PARTNER_EVENTS.types)
    assert sorted(spec["webhooks"]) == sorted(published)
    assert webhook_example_errors(spec) == []  # the examples are deliveries too
    create_schema = spec["components"]["schemas"]["ReferralWebhookEndpointCreate"]
    assert sorted(create_schema["properties"]["event_types"]["items"]["enum"]) == sorted(published)
    police = register(client, tokens, POLICE_ADMIN, receiver.url, published)  # sees every child
    council = register(client, tokens, COUNCIL_ADMIN, receiver.url, ["access.break_glass"])  # audits
    secrets_by_endpoint = {police["id"]: police["secret"], council["id"]: council["secret"]}

    # Each event type, through the operations that write it.
    referral = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).json()
    moved = client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"to": "screening"},
        headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": f'"{referral["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    episode = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": referral["child_id"], "reported_missing_at": "2026-11-20T22:00:00Z"},
        headers=tokens.headers(**POLICE_OFFICER),
    )
    assert episode.status_code == 201, episode.text
    found = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        json={"found_at": "2026-11-21T07:30:00Z", "found_location": "Bus interchange"},
        headers={**tokens.headers(**POLICE_OFFICER), "If-Match": episode.headers["etag"]},
    )
    assert found.status_code == 200, found.text
    duplicate = client.post(
        "/api/v1/children",
        json=child_details(nhs_number="9434765919"),
        headers=tokens.headers(**SOCIAL_WORKER),
    ).json()
    keep = client.get(f"/api/v1/children/{referral['child_id']}", headers=tokens.headers(**SOCIAL_WORKER))
    merged = client.post(
        f"/api/v1/children/{referral['child_id']}/merge",
        json={"duplicate_id": duplicate["id"], "reason": "Same child, confirmed with GP"},
        headers={**tokens.headers(**HUB_MANAGER), "If-Match": keep.headers["etag"]},
    )
    assert merged.status_code == 200, merged.text
    broke_glass = client.post(
        f"/api/v1/children/{referral['child_id']}/break-glass",
        json={"reason": "Found at night with two adults; duty worker planning tonight."},
        headers=tokens.headers(**YOUTH_WORKER),
    )
    assert broke_glass.status_code == 201, broke_glass.text
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=tokens.headers(**POLICE_OFFICER)
    ).json()
    disrupted = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "child_abduction_warning_notice",
            "person_of_concern_id": person["id"],
            "action_date": "2026-11-21",
            "outcome": "issued",
            "child_ids": [referral["child_id"]],
        },
        headers=tokens.headers(**POLICE_OFFICER),
    )
    assert disrupted.status_code == 201, disrupted.text
    support = client.post(
        f"/api/v1/children/{referral['child_id']}/support",
        json={
            "kind": "therapeutic_post_abuse_support",
            "provider": {"service": "post-abuse-support"},
            "requested_at": "2026-11-01T09:00:00Z",
        },
        headers=tokens.headers(**SOCIAL_WORKER),
    )
    assert support.status_code == 201, support.text
    for step, body in (
        ("start", {"started_at": "2026-11-20T10:00:00Z"}),
        ("end", {"ended_at": "2026-11-27T10:00:00Z", "reason": "goals_met"}),
    ):
        support = client.post(
            f"/api/v1/support/{support.json()['id']}/{step}",
            json=body,
            headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": support.headers["etag"]},
        )
        assert support.status_code == 200, support.text
    relay(app)

    delivered = {json.loads(body)["type"] for _, body, _ in receiver.deliveries}
    assert delivered == set(published)
    for headers, body, _ in receiver.deliveries:
        assert delivery_errors(spec, headers, body) == [], body
        endpoint_id = headers["webhook-id"].rsplit(":webhook-", 1)[1]
        assert verify_signature(secrets_by_endpoint[endpoint_id], headers, body)
