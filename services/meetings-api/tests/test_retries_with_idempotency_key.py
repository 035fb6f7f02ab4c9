"""A partner system retrying a create in the meetings service: a series, an agenda item, a
decision, an action and a webhook endpoint honour `Idempotency-Key` (the first answer
again, 422 for another request under the key, each agency's keys its own); every other
POST or PUT says in its spec why a repeat is safe, or what a repeat makes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from meetings_scenarios import COORDINATOR, series_body

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.database import EVENTS
from meetings_api.series.models import MeetingSeries
from safeguarding_kit.idempotency_testing import (
    Call,
    Create,
    check_each_agency_has_its_own_keys,
    check_key_with_another_request_is_refused,
    check_retry_gets_the_first_answer,
    check_spec_says_how_each_write_is_retried,
    post,
    record_count,
)
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.testing import TokenFactory

POLICE_COORDINATOR = {
    "agency": "south-yorkshire-police",
    "agency_type": "police",
    "roles": ["meeting_coordinator"],
}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SOCIAL_CARE_ADMIN = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["admin"]}
ITEM = {"kind": "other", "title": "Hotel watch scheme", "reason": "Police request"}
ACTION = {
    "description": "Visit the hotel manager",
    "owner_agency": "south-yorkshire-police",
    "due_date": "2027-03-17",
}


@pytest.fixture
def settings(settings: DatabaseSettings) -> DatabaseSettings:
    # The webhook endpoints registered here are on this machine.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def as_caller(tokens: TokenFactory) -> Callable[[Mapping[str, Any]], Mapping[str, str]]:
    """The bearer headers of a caller."""
    return lambda who: tokens.headers(**who)


def _first_meeting(client: Any, as_caller: Any) -> str:
    series = client.post("/api/v1/meetings/series", json=series_body(), headers=as_caller(COORDINATOR)).json()
    meetings = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        params={"from": "2027-03-01T00:00:00Z", "to": "2027-03-15T00:00:00Z"},
        headers=as_caller(COORDINATOR),
    ).json()
    return str(meetings["items"][0]["id"])


def _item(client: Any, as_caller: Any) -> str:
    meeting = _first_meeting(client, as_caller)
    return str(
        client.post(
            f"/api/v1/meetings/occurrences/{meeting}/agenda/items", json=ITEM, headers=as_caller(COORDINATOR)
        ).json()["id"]
    )


def _series_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/meetings/series"
    return Call(path, series_body()), Call(path, series_body(title="Sheffield CETG", meeting_type="CETG"))


def _agenda_item_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = f"/api/v1/meetings/occurrences/{_first_meeting(client, as_caller)}/agenda/items"
    return Call(path, ITEM), Call(path, {**ITEM, "title": "Taxi firm licensing"})


def _decision_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = f"/api/v1/meetings/agenda-items/{_item(client, as_caller)}/decisions"
    return Call(path, {"text": "Escalate to a strategy discussion."}), Call(path, {"text": "Close the item."})


def _action_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = f"/api/v1/meetings/agenda-items/{_item(client, as_caller)}/actions"
    return Call(path, ACTION), Call(path, {**ACTION, "due_date": "2027-03-24"})


def _webhook_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/webhooks/meetings-service/endpoints"
    body = {"url": "https://127.0.0.1:9/hooks", "event_types": ["meeting.action_overdue"]}
    return Call(path, body), Call(path, {**body, "url": "https://127.0.0.1:9/other-hooks"})


CREATES = [
    Create("createMeetingSeries", COORDINATOR, POLICE_COORDINATOR, _series_calls, MeetingSeries.__table__),
    Create("addAgendaItem", COORDINATOR, POLICE_COORDINATOR, _agenda_item_calls, AgendaItem.__table__),
    Create("recordDecision", COORDINATOR, POLICE_COORDINATOR, _decision_calls, Decision.__table__),
    Create("agreeAction", COORDINATOR, POLICE_COORDINATOR, _action_calls, Action.__table__),
    Create(
        "createMeetingsWebhookEndpoint",
        POLICE_ADMIN,
        SOCIAL_CARE_ADMIN,
        _webhook_calls,
        EVENTS.webhook_endpoints,
    ),
]


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_a_partner_systems_retry_with_the_same_key_gets_the_first_answer_and_makes_one_record(
    client, as_caller, create
):
    check_retry_gets_the_first_answer(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_the_same_key_with_another_request_is_422_naming_the_key_and_changes_nothing(
    client, as_caller, create
):
    check_key_with_another_request_is_refused(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_two_agencies_using_the_same_key_each_make_their_own_record(client, as_caller, create):
    check_each_agency_has_its_own_keys(client, as_caller, create)


def test_every_post_and_put_honours_the_key_or_says_why_a_repeat_is_safe(app):
    check_spec_says_how_each_write_is_retried(app.openapi(), CREATES)


@pytest.mark.real_commits  # twenty requests at once, each on a connection of its own
def test_twenty_concurrent_retries_of_an_agenda_item_make_one_item(client, as_caller):
    call, _ = _agenda_item_calls(client, as_caller)
    coordinator = as_caller(COORDINATOR)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answered = list(pool.map(lambda _: post(client, coordinator, call), range(20)))
    assert {a.status_code for a in answered} <= {201, 409}
    made = [a.json() for a in answered if a.status_code == 201]
    assert made
    assert all(body == made[0] for body in made)
    assert record_count(client, AgendaItem.__table__) == 1
