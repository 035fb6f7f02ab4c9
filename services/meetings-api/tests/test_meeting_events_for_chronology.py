"""What the meetings service tells the referral service for each child's chronology: a
decision recorded on an agenda item about children (one `meeting.decision_recorded` per
child), an action about a child agreed (`meeting.action_agreed`) and completed or
cancelled (`meeting.action_closed`). Ids, kinds and dates only: never the decision's text,
the action's description or who owns it; written in the transaction of the change, so a
request that fails announces nothing; for the referral service, never for partners."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from meetings_scenarios import COORDINATOR, series_body
from sqlalchemy import select
from sqlalchemy.orm import object_session

from meetings_api.actions import routes as action_routes
from meetings_api.actions.models import Action
from meetings_api.database import EVENTS
from safeguarding_kit.db import Database
from safeguarding_kit.events import Subscriber
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.testing import TokenFactory

CHRONOLOGY_EVENTS = [
    "meeting.decision_recorded",
    "meeting.action_agreed",
    "meeting.action_closed",
    "meeting.action_reopened",
]
CHILD = "3f0e9a1c-0b1d-4c5e-8f7a-1b2c3d4e5f60"
SIBLING = "4a1f0b2d-1c2e-4d6f-9a8b-2c3d4e5f6071"
DECISION_TEXT = "Escalate to a strategy discussion: Ali Example seen at the London Road takeaway."
DESCRIPTION = "Share the disruption plan for the London Road takeaway with licensing."
OWNER_PERSON = "DS Lee Example"
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}


@pytest.fixture
def settings(settings: DatabaseSettings) -> DatabaseSettings:
    # The referral service subscribes to these events, as the platform is configured.
    referral = Subscriber(
        name="referral-api", url="http://referral-api:8101/internal/events", types=CHRONOLOGY_EVENTS
    )
    return settings.model_copy(update={"event_subscribers": [referral]})


def first_meeting(client: Any, tokens: Any, meeting_type: str = "MACE") -> dict[str, Any]:
    series = client.post(
        "/api/v1/meetings/series",
        json=series_body(meeting_type=meeting_type, title=f"Sheffield {meeting_type}"),
        headers=tokens.headers(**COORDINATOR),
    )
    assert series.status_code == 201, series.text
    meetings = client.get(
        f"/api/v1/meetings/series/{series.json()['id']}/occurrences",
        params={"from": "2027-03-01T00:00:00Z", "to": "2027-03-15T00:00:00Z"},
        headers=tokens.headers(**COORDINATOR),
    ).json()["items"]
    return dict(meetings[0])


def agenda_item(client: Any, tokens: Any, meeting: dict[str, Any], child_ids: list[str]) -> dict[str, Any]:
    item = client.post(
        f"/api/v1/meetings/occurrences/{meeting['id']}/agenda/items",
        json={
            "kind": "children_group" if len(child_ids) > 1 else ("child" if child_ids else "other"),
            "title": "Siblings seen with the same adults" if child_ids else "Hotel watch scheme",
            "child_ids": child_ids,
            "reason": "Raised by police",
        },
        headers=tokens.headers(**COORDINATOR),
    )
    assert item.status_code == 201, item.text
    return dict(item.json())


def agree(client: Any, tokens: Any, item: dict[str, Any], child_id: str | None) -> Any:
    return client.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/actions",
        json={
            "description": DESCRIPTION,
            "owner_agency": "south-yorkshire-police",
            "owner_person": OWNER_PERSON,
            "due_date": "2027-03-17",
            "child_id": child_id,
        },
        headers=tokens.headers(**COORDINATOR),
    )


def mark(client: Any, tokens: Any, action: Any, status: str) -> Any:
    answer = client.patch(
        f"/api/v1/meetings/actions/{action.json()['id']}",
        json={"status": status},
        headers={**tokens.headers(**COORDINATOR), "If-Match": action.headers["etag"]},
    )
    assert answer.status_code == 200, answer.text
    return answer


def database_of(client: Any) -> Database:
    database: Database = client.app.state.database
    return database


def chronology_events(client: Any) -> list[Any]:
    """The chronology events in the outbox, in the order written, each with who it goes to."""
    e, d = EVENTS.events, EVENTS.deliveries
    with database_of(client).sessions() as session:
        events = session.execute(
            select(e.c.seq, e.c.type, e.c.subject, e.c.data)
            .where(e.c.type.in_(CHRONOLOGY_EVENTS))
            .order_by(e.c.seq)
        ).all()
        receivers = {
            seq: sorted(session.scalars(select(d.c.subscriber).where(d.c.event_seq == seq)))
            for seq, *_ in events
        }
    return [(event, receivers[event.seq]) for event in events]


def the_same_instant(stamp: str, other: str) -> bool:
    return datetime.fromisoformat(stamp) == datetime.fromisoformat(other)


def test_a_decision_on_an_item_about_two_children_is_told_to_each_childs_chronology(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens, "CETG")
    item = agenda_item(client, tokens, meeting, [CHILD, SIBLING])
    decision = client.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/decisions",
        json={"text": DECISION_TEXT},
        headers=tokens.headers(**COORDINATOR),
    )
    assert decision.status_code == 201, decision.text

    told = chronology_events(client)
    assert [(event.type, event.subject) for event, _ in told] == [
        ("meeting.decision_recorded", CHILD),
        ("meeting.decision_recorded", SIBLING),
    ]
    for (event, receivers), child_id in zip(told, [CHILD, SIBLING], strict=True):
        assert receivers == ["referral-api"]  # no partner hears of it
        starts_at = event.data.pop("meeting_starts_at")
        assert the_same_instant(starts_at, meeting["starts_at"])
        assert event.data == {
            "decision_id": decision.json()["id"],
            "agenda_item_id": item["id"],
            "occurrence_id": meeting["id"],
            "series_id": meeting["series_id"],
            "meeting_kind": "CETG",
            "child_id": child_id,
        }


def test_a_decision_on_an_item_about_no_child_is_told_to_nobody(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [])
    decision = client.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/decisions",
        json={"text": "Hotel watch scheme extended to the station hotels."},
        headers=tokens.headers(**COORDINATOR),
    )
    assert decision.status_code == 201, decision.text
    assert chronology_events(client) == []


def test_an_action_about_a_child_is_told_when_agreed_and_when_completed(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD, SIBLING])
    action = agree(client, tokens, item, CHILD)
    assert action.status_code == 201, action.text
    mark(client, tokens, action, "done")

    told = chronology_events(client)
    assert [(event.type, event.subject, receivers) for event, receivers in told] == [
        ("meeting.action_agreed", CHILD, ["referral-api"]),
        ("meeting.action_closed", CHILD, ["referral-api"]),
    ]
    agreed, closed = (event.data for event, _ in told)
    assert agreed == {
        "action_id": action.json()["id"],
        "occurrence_id": meeting["id"],
        "series_id": meeting["series_id"],
        "meeting_kind": "MACE",
        "child_id": CHILD,
        "owner_agency": "south-yorkshire-police",
        "due_date": "2027-03-17",
    }
    assert closed == {
        "action_id": action.json()["id"],
        "child_id": CHILD,
        "owner_agency": "south-yorkshire-police",
        "status": "completed",
    }


def test_a_cancelled_action_is_told_closed_once_and_marking_it_again_tells_nothing_more(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD])
    action = agree(client, tokens, item, CHILD)
    cancelled = mark(client, tokens, action, "cancelled")
    mark(client, tokens, cancelled, "cancelled")

    closed = [event.data for event, _ in chronology_events(client) if event.type == "meeting.action_closed"]
    assert [(c["action_id"], c["status"]) for c in closed] == [(action.json()["id"], "cancelled")]


def test_an_action_done_then_opened_again_is_told_reopened_and_closed_again(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD])
    action = agree(client, tokens, item, CHILD)
    done = mark(client, tokens, action, "done")
    opened = mark(client, tokens, done, "open")
    still_open = mark(client, tokens, opened, "open")  # nothing new to tell
    mark(client, tokens, still_open, "done")

    assert [event.type for event, _ in chronology_events(client)] == [
        "meeting.action_agreed",
        "meeting.action_closed",
        "meeting.action_reopened",
        "meeting.action_closed",
    ]
    reopened = next(e.data for e, _ in chronology_events(client) if e.type == "meeting.action_reopened")
    assert reopened == {
        "action_id": action.json()["id"],
        "child_id": CHILD,
        "owner_agency": "south-yorkshire-police",
    }


def test_an_action_about_no_child_is_told_to_nobody(client: TestClient, tokens: TokenFactory) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD])
    action = agree(client, tokens, item, None)
    assert action.status_code == 201, action.text
    mark(client, tokens, action, "done")
    assert chronology_events(client) == []


def test_no_event_carries_the_decision_text_the_action_description_or_its_owners_name(
    client: TestClient, tokens: TokenFactory
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD])
    client.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/decisions",
        json={"text": DECISION_TEXT},
        headers=tokens.headers(**COORDINATOR),
    )
    done = mark(client, tokens, agree(client, tokens, item, CHILD), "done")
    mark(client, tokens, done, "open")

    told = chronology_events(client)
    assert {event.type for event, _ in told} == set(CHRONOLOGY_EVENTS)
    for event, _ in told:
        serialized = json.dumps(event.data)
        for secret in (DECISION_TEXT, "Ali Example", "London Road", DESCRIPTION, OWNER_PERSON, "Lee"):
            assert secret not in serialized


def test_an_action_agreed_in_a_request_that_fails_is_told_to_nobody(
    client: TestClient, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting = first_meeting(client, tokens)
    item = agenda_item(client, tokens, meeting, [CHILD])

    written: list[str] = []

    def answer_lost(action: Action) -> None:
        # The action and its event are written in the request's transaction...
        request_session = object_session(action)
        assert request_session is not None
        written.extend(request_session.scalars(select(EVENTS.events.c.type)))
        # ...and then the request fails before its answer.
        raise RuntimeError("the answer could not be made")

    monkeypatch.setattr(action_routes, "_action_body", answer_lost)
    failed = agree(client, tokens, item, CHILD)
    assert failed.status_code == 500

    assert written == ["meeting.action_agreed"]
    assert chronology_events(client) == []
    with database_of(client).sessions() as session:
        assert session.scalars(select(Action.id)).all() == []


def test_partners_cannot_subscribe_to_a_childs_chronology_events(
    client: TestClient, tokens: TokenFactory
) -> None:
    answer = client.post(
        "/api/v1/webhooks/meetings-service/endpoints",
        json={"url": "https://93.184.216.34/hooks", "event_types": CHRONOLOGY_EVENTS},
        headers=tokens.headers(**POLICE_ADMIN),
    )
    assert answer.status_code == 422, answer.text
    assert {e["pointer"] for e in answer.json()["errors"]} == {"#/event_types"}
