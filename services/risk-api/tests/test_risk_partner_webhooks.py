"""Partner webhooks of the risk service: an agency's admin registers an endpoint for risk
events; its receiver gets signed CloudEvents when a child it may see changes level, and
nothing about children its agency is not linked to."""

from __future__ import annotations

import ipaddress
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from risk_scenarios import ASSESSOR, answers, new_child

from risk_api.database import EVENTS
from safeguarding_kit import outbound_urls
from safeguarding_kit.events import RelayPolicy, relay_once, sign, verify_signature
from safeguarding_kit.testing import WebhookReceiver
from safeguarding_kit.webhooks.contract import delivery_errors, request_example, webhook_example_errors

pytestmark = pytest.mark.usefixtures("default_model")

ENDPOINTS = "/api/v1/webhooks/risk-service/endpoints"
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
YOUTH_ADMIN = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["admin"]}
CHARITY_ADMIN = {"agency": "safe-space-sheffield", "agency_type": "voluntary", "roles": ["admin"]}
POLICE_PRACTITIONER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
LOCAL_RECEIVERS = RelayPolicy(max_attempts=3, backoff_base_seconds=0.2, private_addresses_allowed=True)


@pytest.fixture
def settings(settings):
    # The receivers run on this machine, so private addresses are allowed for this module.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    made = {name: WebhookReceiver() for name in ("police", "youth", "charity")}
    yield made
    for receiver in made.values():
        receiver.close()


def relay(app) -> None:
    """Run the relay until nothing is due (the test's stand-in for the relay thread)."""
    with httpx.Client(timeout=5) as http:
        while relay_once(
            app.state.database, EVENTS, http, app.state.settings.events_signing_secret, "t", LOCAL_RECEIVERS
        ):
            pass


def register(client, tokens, admin: dict, url: str, types: list[str]) -> dict:
    answer = client.post(ENDPOINTS, json={"url": url, "event_types": types}, headers=tokens.headers(**admin))
    assert answer.status_code == 201, answer.text
    return answer.json()


def assess_high(client, tokens, child_id: str) -> None:
    answer = client.post(
        f"/api/v1/risk/children/{child_id}/assessments",
        json={"answers": answers("disclosure_sexual_exploitation")},
        headers=tokens.headers(**ASSESSOR),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["final_level"] == "high"


def link_agency(client, app, child_id: str, agency: str) -> None:
    """The referral service's ``child.agency_linked`` event, as its relay would deliver it."""
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "referral-api",
        "type": "child.agency_linked",
        "subject": child_id,
        "time": "2026-11-25T09:00:00Z",
        "data": {"child_id": child_id, "agency": agency, "reason": "referral"},
    }
    body, stamp, message_id = json.dumps(event).encode(), int(time.time()), f"{event['id']}:risk-api"
    signed = {
        "content-type": "application/cloudevents+json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(app.state.settings.events_signing_secret, message_id, stamp, body),
    }
    assert client.post("/internal/events", content=body, headers=signed).status_code == 204


def test_a_police_receiver_gets_a_signed_level_change_it_can_verify(client, app, tokens, receivers):
    receiver = receivers["police"]
    endpoint = register(client, tokens, POLICE_ADMIN, receiver.url, ["risk.level_changed"])
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["agency"] == "south-yorkshire-police"
    child = new_child()

    assess_high(client, tokens, child)
    relay(app)

    [(headers, body, _)] = receiver.deliveries  # the level change only: risk.assessed was not asked for
    assert verify_signature(endpoint["secret"], headers, body)
    assert not verify_signature(endpoint["secret"], headers, body.replace(b'"high"', b'"low"'))
    assert not verify_signature(
        app.state.settings.events_signing_secret, headers, body
    )  # not the internal one
    event = json.loads(body)
    assert (event["specversion"], event["type"], event["source"], event["subject"]) == (
        "1.0",
        "risk.level_changed",
        "risk-api",
        child,
    )
    assert event["data"] == {"child_id": child, "from": None, "to": "high"}
    assert headers["content-type"] == "application/cloudevents+json"
    [delivery] = client.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=tokens.headers(**POLICE_ADMIN)
    ).json()["items"]
    assert (delivery["event_id"], delivery["status"], delivery["attempts"]) == (event["id"], "delivered", 1)
    # The secret is shown once, when the endpoint is made.
    listed = client.get(ENDPOINTS, headers=tokens.headers(**POLICE_ADMIN)).json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]]
    assert "secret" not in listed["items"][0]


def test_an_agencys_webhook_endpoints_are_listed_newest_first_a_page_at_a_time(client, tokens, receivers):
    made = [
        register(client, tokens, POLICE_ADMIN, receivers["police"].url, ["risk.level_changed"])["id"]
        for _ in range(3)
    ]
    first = client.get(ENDPOINTS, params={"limit": 2}, headers=tokens.headers(**POLICE_ADMIN)).json()
    rest = client.get(
        ENDPOINTS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=tokens.headers(**POLICE_ADMIN)
    ).json()
    assert len(first["items"]) == 2
    assert rest["next_cursor"] is None
    assert sorted(e["id"] for e in first["items"] + rest["items"]) == sorted(made)
    listed = first["items"] + rest["items"]
    assert [e["created_at"] for e in listed] == sorted((e["created_at"] for e in listed), reverse=True)
    bad = client.get(ENDPOINTS, params={"cursor": "not-ours"}, headers=tokens.headers(**POLICE_ADMIN))
    assert bad.status_code == 400


def test_an_agency_hears_only_of_the_children_it_is_linked_to(client, app, tokens, receivers):
    register(client, tokens, POLICE_ADMIN, receivers["police"].url, ["risk.level_changed"])
    register(client, tokens, YOUTH_ADMIN, receivers["youth"].url, ["risk.level_changed"])
    register(client, tokens, CHARITY_ADMIN, receivers["charity"].url, ["risk.level_changed"])
    linked, unlinked = new_child(), new_child()
    link_agency(client, app, linked, "sheffield-youth")

    assess_high(client, tokens, linked)
    assess_high(client, tokens, unlinked)
    relay(app)

    # A statutory partner hears of both; the youth service of its own child only; the charity,
    # linked to neither, of nothing.
    assert [e["subject"] for e in receivers["police"].events()] == [linked, unlinked]
    assert [e["subject"] for e in receivers["youth"].events()] == [linked]
    assert receivers["charity"].deliveries == []


def test_only_an_agency_admin_registers_and_another_agency_s_endpoint_is_404(client, tokens, receivers):
    url = receivers["police"].url
    for not_admin in (ASSESSOR, POLICE_PRACTITIONER):
        refused = client.post(
            ENDPOINTS,
            json={"url": url, "event_types": ["risk.level_changed"]},
            headers=tokens.headers(**not_admin),
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    endpoint = register(client, tokens, POLICE_ADMIN, url, ["risk.level_changed"])
    base = f"{ENDPOINTS}/{endpoint['id']}"

    assert client.get(f"{base}/deliveries", headers=tokens.headers(**YOUTH_ADMIN)).status_code == 404
    assert (
        client.post(f"{base}/deliveries/1/redelivery", headers=tokens.headers(**YOUTH_ADMIN)).status_code
        == 404
    )
    assert client.delete(base, headers=tokens.headers(**YOUTH_ADMIN)).status_code == 404
    assert client.get(ENDPOINTS, headers=tokens.headers(**YOUTH_ADMIN)).json() == {
        "items": [],
        "next_cursor": None,
    }
    # Still there for its own agency.
    assert client.get(f"{base}/deliveries", headers=tokens.headers(**POLICE_ADMIN)).status_code == 200


def test_only_risk_event_types_can_be_subscribed_to(client, tokens, receivers):
    answer = client.post(
        ENDPOINTS,
        json={"url": receivers["police"].url, "event_types": ["risk.level_changed", "referral.received"]},
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "#/event_types"
    assert "referral.received" in answer.json()["detail"]


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
    example = request_example(app.openapi(), "createRiskWebhookEndpoint")

    answer = client.post(ENDPOINTS, json=example, headers=tokens.headers(**POLICE_ADMIN))

    assert answer.status_code == 201, answer.text
    assert public_dns == ["example.com"]
    assert answer.json()["event_types"] == sorted(example["event_types"])


def test_every_risk_event_a_partner_can_hear_of_is_delivered_as_the_specs_webhooks_describe(
    client, app, tokens, receivers
):
    spec = app.openapi()
    published = ["risk.assessed", "risk.level_changed"]
    assert sorted(spec["webhooks"]) == published
    assert webhook_example_errors(spec) == []  # the examples are deliveries too
    enum = spec["components"]["schemas"]["RiskWebhookEndpointCreate"]["properties"]["event_types"]["items"]
    assert sorted(enum["enum"]) == published
    endpoint = register(client, tokens, POLICE_ADMIN, receivers["police"].url, published)

    assess_high(client, tokens, new_child())
    relay(app)

    received = receivers["police"].deliveries
    assert sorted(json.loads(body)["type"] for _, body, _ in received) == published
    for headers, body, _ in received:
        assert delivery_errors(spec, headers, body) == [], body
        assert verify_signature(endpoint["secret"], headers, body)
