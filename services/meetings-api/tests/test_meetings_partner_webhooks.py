"""Partner webhooks from the meetings service: an agency's admin registers an endpoint for
`meeting.action_overdue`; a school hears of the overdue actions its own staff own, the
police (an agency the partnership agreement has chair meetings) of every overdue action,
and another school, and the MASH health team (every child's case, but no chair), of none.
The deliveries are signed with the endpoint's secret and carry ids, never names."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from meetings_scenarios import COORDINATOR, series_body

from meetings_api.actions.sweeper import sweep_once
from meetings_api.database import EVENTS
from safeguarding_kit import outbound_urls
from safeguarding_kit.events import RelayPolicy, relay_once, verify_signature
from safeguarding_kit.testing import WebhookReceiver
from safeguarding_kit.webhooks.contract import delivery_errors, request_example, webhook_example_errors

POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SCHOOL_ADMIN = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["admin"]}
OTHER_SCHOOL_ADMIN = {"agency": "rotherham-schools", "agency_type": "education", "roles": ["admin"]}
HEALTH_ADMIN = {"agency": "sheffield-health", "agency_type": "health", "roles": ["admin"]}
CHILD_ID = "3f0e9a1c-0b1d-4c5e-8f7a-1b2c3d4e5f60"
OTHER_CHILD_ID = "4a1f0b2d-1c2e-4d6f-9a8b-2c3d4e5f6071"
ENDPOINTS = "/api/v1/webhooks/meetings-service/endpoints"


@pytest.fixture
def settings(settings):
    # The receivers run on this machine, so private addresses are allowed for this module.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    made = {name: WebhookReceiver() for name in ("police", "school", "other school", "health")}
    yield made
    for receiver in made.values():
        receiver.close()


def register(client, tokens, admin: dict, url: str) -> dict:
    answer = client.post(
        ENDPOINTS,
        json={"url": url, "event_types": ["meeting.action_overdue"]},
        headers=tokens.headers(**admin),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def overdue_action(client, tokens, child_id: str, owner_agency: str) -> dict:
    """An action agreed at a meeting three weeks ago, due a fortnight ago, still open."""
    coordinator = tokens.headers(**COORDINATOR)
    three_weeks_ago = date.today() - timedelta(weeks=3)
    series = client.post(
        "/api/v1/meetings/series",
        headers=coordinator,
        json=series_body(first_meeting_local=f"{three_weeks_ago.isoformat()}T10:00:00", rrule="FREQ=WEEKLY"),
    ).json()
    meeting = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        headers=coordinator,
        params={"from": f"{three_weeks_ago.isoformat()}T00:00:00Z"},
    ).json()["items"][0]
    item = client.post(
        f"/api/v1/meetings/occurrences/{meeting['id']}/agenda/items",
        json={
            "kind": "child",
            "title": "Child of concern",
            "reason": "Raised by school",
            "child_ids": [child_id],
        },
        headers=coordinator,
    )
    assert item.status_code == 201, item.text
    action = client.post(
        f"/api/v1/meetings/agenda-items/{item.json()['id']}/actions",
        headers=coordinator,
        json={
            "description": "Safety plan meeting with the family",
            "owner_agency": owner_agency,
            "due_date": (three_weeks_ago + timedelta(days=7)).isoformat(),
            "child_id": child_id,
        },
    )
    assert action.status_code == 201, action.text
    return action.json()


def relay(app) -> None:
    policy = RelayPolicy(max_attempts=3, backoff_base_seconds=0.2, private_addresses_allowed=True)
    with httpx.Client(timeout=5) as http:
        while relay_once(
            app.state.database, EVENTS, http, app.state.settings.events_signing_secret, "t", policy
        ):
            pass


def test_each_agency_hears_of_the_overdue_actions_it_may_see_signed_and_without_names(
    client, app, tokens, receivers
):
    police = register(client, tokens, POLICE_ADMIN, receivers["police"].url)
    school = register(client, tokens, SCHOOL_ADMIN, receivers["school"].url)
    register(client, tokens, OTHER_SCHOOL_ADMIN, receivers["other school"].url)
    register(client, tokens, HEALTH_ADMIN, receivers["health"].url)
    schools_action = overdue_action(client, tokens, CHILD_ID, "sheffield-schools")
    police_action = overdue_action(client, tokens, OTHER_CHILD_ID, "south-yorkshire-police")

    assert sweep_once(app.state.database, app.state.outbox) == 2
    relay(app)

    def heard(name: str) -> list[dict]:
        return receivers[name].events()

    assert {e["data"]["action_id"] for e in heard("police")} == {schools_action["id"], police_action["id"]}
    assert [e["data"]["action_id"] for e in heard("school")] == [schools_action["id"]]
    assert heard("other school") == []
    assert heard("health") == []  # all_cases is not chairs_meetings
    [(headers, body, _)] = receivers["school"].deliveries
    assert verify_signature(school["secret"], headers, body)
    assert not verify_signature(police["secret"], headers, body)  # each endpoint its own secret
    event = json.loads(body)
    assert (event["type"], event["subject"]) == ("meeting.action_overdue", CHILD_ID)
    assert "Safety plan" not in body.decode()  # ids, the owner and the date; not what was said


def test_only_an_agency_admin_registers_meetings_webhooks_and_sees_only_its_own(client, tokens, receivers):
    coordinator = client.post(
        ENDPOINTS,
        json={"url": receivers["police"].url, "event_types": ["meeting.action_overdue"]},
        headers=tokens.headers(**COORDINATOR),
    )
    assert coordinator.status_code == 403
    assert coordinator.headers["content-type"] == "application/problem+json"
    police = register(client, tokens, POLICE_ADMIN, receivers["police"].url)
    listed = client.get(ENDPOINTS, headers=tokens.headers(**SCHOOL_ADMIN))
    assert listed.json() == {"items": [], "next_cursor": None}
    other = client.get(
        f"{ENDPOINTS}/{police['id']}/deliveries",
        headers=tokens.headers(**SCHOOL_ADMIN),
    )
    assert other.status_code == 404
    unknown_type = client.post(
        ENDPOINTS,
        json={"url": receivers["police"].url, "event_types": ["risk.level_changed"]},
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert unknown_type.status_code == 422


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
    example = request_example(app.openapi(), "createMeetingsWebhookEndpoint")

    answer = client.post(ENDPOINTS, json=example, headers=tokens.headers(**POLICE_ADMIN))

    assert answer.status_code == 201, answer.text
    assert public_dns == ["example.com"]
    assert answer.json()["event_types"] == ["meeting.action_overdue"]


def test_an_overdue_action_is_delivered_as_the_specs_webhooks_describe(client, app, tokens, receivers):
    spec = app.openapi()
    assert sorted(spec["webhooks"]) == ["meeting.action_overdue"]
    assert webhook_example_errors(spec) == []  # the examples are deliveries too
    police = register(client, tokens, POLICE_ADMIN, receivers["police"].url)
    overdue_action(client, tokens, CHILD_ID, "sheffield-schools")

    assert sweep_once(app.state.database, app.state.outbox) == 1
    relay(app)

    [(headers, body, _)] = receivers["police"].deliveries
    assert delivery_errors(spec, headers, body) == [], body
    assert verify_signature(police["secret"], headers, body)
