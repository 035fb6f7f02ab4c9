"""What a meeting recorded about one child goes with that child's record: when the
referral service disposes of a child (`child.disposed`), the child's id leaves every agenda
item and action, what was about that child alone loses its words, and the action figures
for every period answer as before. A disposal record and an audit record remain."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from meetings_retention_events import child_disposed, deliver, mentions
from meetings_scenarios import COORDINATOR, POLICE, first_meeting_in_two_days_local, series_body
from sqlalchemy import func, select, update

from meetings_api.actions.models import Action
from meetings_api.actions.sweeper import sweep_once
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.database import AUDIT, DISPOSALS
from safeguarding_kit.retention.schedule import load_schedule

ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
PARTNER_MANAGER = {"agency": "sheffield-health", "agency_type": "health", "roles": ["manager"]}
FIGURE_COLUMNS = (
    "status",
    "owner_agency",
    "due_date",
    "completed_at",
    "cancelled_at",
    "created_at",
    "stats_key",
)


def meeting_with_ava_on_it(meetings, services, tokens) -> dict[str, Any]:
    """Next week's MACE: Ava, Ben and Cara linked through one adult (one generated item
    naming each child's reasons), and an item a coordinator added about Ava alone, with
    minutes, a decision and actions; actions about Ben on the shared item."""
    coordinator = tokens.headers(**COORDINATOR)
    ava, ben, cara = (services.referrals.referral()["child_id"] for _ in range(3))
    services.referrals.person_of_concern("Tee", [ava, ben, cara])
    series = meetings.post(
        "/api/v1/meetings/series",
        json=series_body(first_meeting_local=first_meeting_in_two_days_local(), rrule="FREQ=WEEKLY"),
        headers=coordinator,
    ).json()
    occurrence = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**POLICE)
    ).json()["items"][0]
    generated = meetings.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/generate", headers=coordinator
    )
    assert generated.status_code == 200, generated.text
    [shared] = generated.json()["items"]
    about_ava = meetings.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/items",
        json={
            "kind": "child",
            "title": "Ava: missing again from the children's home",
            "child_ids": [ava],
            "reason": "Raised by her school's safeguarding lead",
        },
        headers={**coordinator, "Idempotency-Key": "ava-item"},
    ).json()
    for item, minutes in (
        (about_ava, "Ava disclosed she is taken to the flat on Spital Hill."),
        (shared, "Ben and Cara seen with Tee at the takeaway."),
    ):
        written = meetings.patch(
            f"/api/v1/meetings/agenda-items/{item['id']}",
            json={"minutes": minutes},
            headers={**coordinator, "If-Match": f'"{item["version"]}"'},
        )
        assert written.status_code == 200, written.text
    decision = meetings.post(
        f"/api/v1/meetings/agenda-items/{about_ava['id']}/decisions",
        json={"text": "Strategy discussion for Ava under section 47."},
        headers=coordinator,
    )
    assert decision.status_code == 201, decision.text
    actions = [
        agree(meetings, tokens, about_ava, "sheffield-health", ava, "Ava's GP to review her sexual health")
        for _ in range(7)
    ]
    actions += [
        agree(meetings, tokens, shared, "south-yorkshire-police", ben, "Visit Ben at home") for _ in range(6)
    ]
    return {
        "ava": ava,
        "ben": ben,
        "cara": cara,
        "shared": shared,
        "about_ava": about_ava,
        "actions": actions,
    }


def agree(meetings, tokens, item, owner: str, child: str, description: str) -> dict[str, Any]:
    response = meetings.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/actions",
        headers={**tokens.headers(**COORDINATOR), "Idempotency-Key": str(uuid.uuid4())},
        json={
            "description": description,
            "owner_agency": owner,
            "owner_person": "Dr Example",
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
            "child_id": child,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def last_month_history(app, actions: list[dict[str, Any]]) -> str:
    """Agreed last month and due on its 20th: most done on time, one late, the rest overdue
    (announced to partners); the label of last month."""
    this_month = date.today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    at = lambda day: datetime(last_month.year, last_month.month, day, 12, tzinfo=UTC)  # noqa: E731
    ids = [uuid.UUID(a["id"]) for a in actions]
    with app.state.database.sessions() as session:
        session.execute(
            update(Action)
            .where(Action.id.in_(ids))
            .values(created_at=at(3), due_date=last_month.replace(day=20))
        )
        session.execute(
            update(Action)
            .where(Action.id.in_(ids[:4] + ids[7:11]))
            .values(status="done", completed_at=at(18))
        )
        session.execute(update(Action).where(Action.id == ids[4]).values(status="done", completed_at=at(25)))
        session.commit()
    assert sweep_once(app.state.database, app.state.outbox) == 4  # the ones still open
    return f"{last_month.year}-{last_month.month:02d}"


def every_figure(meetings, tokens, period: str) -> dict[str, Any]:
    read = {}
    for who in (ANALYST, PARTNER_MANAGER):
        for params in ({"period": period}, {}):
            response = meetings.get(
                "/api/v1/meetings/stats/actions", headers=tokens.headers(**who), params=params
            )
            assert response.status_code == 200, response.text
            body = response.json()
            etag = response.headers["etag"]
            if who is ANALYST and not params:
                body["period"].pop("as_of")  # exact readers see the current year as at now
                etag = None
            read[f"{who['roles'][0]} {params}"] = (body, etag)
    return read


def test_action_figures_for_every_period_are_the_same_after_a_child_is_disposed_of(agenda_client, tokens):
    meetings, services = agenda_client
    made = meeting_with_ava_on_it(meetings, services, tokens)
    period = last_month_history(meetings.app, made["actions"])
    before = every_figure(meetings, tokens, period)
    assert sum(c["count"] for c in before[f"analyst { ({'period': period}) }"][0]["cells"]) == 13

    assert deliver(meetings, child_disposed(made["ava"])) == 204

    assert every_figure(meetings, tokens, period) == before
    with meetings.app.state.database.sessions() as session:
        columns = [getattr(Action, c) for c in FIGURE_COLUMNS]
        kept = session.execute(
            select(*columns).where(Action.id.in_([uuid.UUID(a["id"]) for a in made["actions"]]))
        ).all()
    assert len(kept) == 13


def test_nothing_of_the_child_remains_in_the_meetings_but_the_audit_trail_and_the_disposal_record(
    agenda_client, tokens
):
    meetings, services = agenda_client
    made = meeting_with_ava_on_it(meetings, services, tokens)
    assert sweep_once(meetings.app.state.database, meetings.app.state.outbox) == 0
    ava = made["ava"]
    with meetings.app.state.database.sessions() as session:
        # The overdue sweep's events would name her too: one of her actions fell due last week.
        session.execute(
            update(Action)
            .where(Action.id == uuid.UUID(made["actions"][0]["id"]))
            .values(due_date=date.today() - timedelta(days=7))
        )
        session.commit()
    assert sweep_once(meetings.app.state.database, meetings.app.state.outbox) == 1
    with meetings.app.state.database.sessions() as session:
        assert set(mentions(session, ava, ava[:8])) >= {
            "agenda_items",
            "actions",
            "idempotency_keys",
            "outbox_events",
        }
        ben_before = mentions(session, made["ben"])
    event = child_disposed(ava, "exploitation_case_record", "missing_episode")

    assert deliver(meetings, event) == 204

    coordinator = tokens.headers(**COORDINATOR)
    with meetings.app.state.database.sessions() as session:
        # Neither her id nor the "Child 1a2b3c4d" the agenda called her by.
        assert mentions(session, ava, ava[:8]) == {}
        assert mentions(session, made["ben"]) == ben_before
        disposals = (
            session.execute(select(DISPOSALS).where(DISPOSALS.c.subject_id == uuid.UUID(ava)))
            .mappings()
            .all()
        )
        [audit] = session.execute(
            select(AUDIT.log.c.actor_sub, AUDIT.log.c.resource_type, AUDIT.log.c.detail).where(
                AUDIT.log.c.child_id == uuid.UUID(ava), AUDIT.log.c.action == "dispose"
            )
        ).all()
        decisions = session.scalars(
            select(Decision.text).where(Decision.agenda_item_id == uuid.UUID(made["about_ava"]["id"]))
        ).all()
    assert sorted(d["record_class"] for d in disposals) == ["exploitation_case_record", "missing_episode"]
    assert {(d["rule"], d["cause"], d["subject_type"], d["schedule_version"]) for d in disposals} == {
        ("with the child's record (child.disposed)", "child.disposed", "child", load_schedule().version)
    }
    assert audit.actor_sub == "system:events"
    assert audit.detail == f"child.disposed {event['id']}: 2 agenda items, 1 decisions, 7 actions"

    items = {
        i["id"]: i
        for i in meetings.get(
            f"/api/v1/meetings/occurrences/{made['about_ava']['occurrence_id']}/agenda", headers=coordinator
        ).json()["items"]
    }
    alone, shared = items[made["about_ava"]["id"]], items[made["shared"]["id"]]
    assert (alone["title"], alone["child_ids"], alone["reasons"], alone["minutes"]) == (
        "Item about a child whose record was disposed of",
        [],
        [],
        None,
    )
    assert decisions == ["Decision about a child whose record was disposed of"]
    # The item shared with Ben and Cara keeps them, their reasons and its minutes.
    assert sorted(shared["child_ids"]) == sorted([made["ben"], made["cara"]])
    assert shared["minutes"] == "Ben and Cara seen with Tee at the takeaway."
    assert [r for r in shared["reasons"] if r["detail"].startswith("Child ")] == [
        r
        for r in made["shared"]["reasons"]
        if r["detail"].startswith(("Child " + made["ben"][:8], "Child " + made["cara"][:8]))
    ]
    with meetings.app.state.database.sessions() as session:
        avas = session.get_one(Action, uuid.UUID(made["actions"][0]["id"]))
        bens = session.get_one(Action, uuid.UUID(made["actions"][-1]["id"]))
        assert (avas.child_id, avas.description, avas.owner_agency, avas.owner_person) == (
            None,
            "Action about a child whose record was disposed of",
            "sheffield-health",
            "Dr Example",  # a professional: not the child's to take
        )
        assert (str(bens.child_id), bens.description) == (made["ben"], "Visit Ben at home")


def test_a_repeated_or_late_disposal_event_changes_and_records_nothing_more(agenda_client, tokens):
    meetings, services = agenda_client
    made = meeting_with_ava_on_it(meetings, services, tokens)
    event = child_disposed(made["ava"])
    assert deliver(meetings, event) == 204

    def counts() -> tuple[int, int]:
        with meetings.app.state.database.sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(DISPOSALS)) or 0,
                session.scalar(
                    select(func.count()).select_from(AUDIT.log).where(AUDIT.log.c.action == "dispose")
                )
                or 0,
            )

    assert counts() == (1, 1)
    assert deliver(meetings, event) == 204  # redelivered: the inbox ignores it
    assert deliver(meetings, child_disposed(made["ava"])) == 204  # announced again: nothing left
    assert deliver(meetings, child_disposed(str(uuid.uuid4()))) == 204  # a child no meeting discussed
    assert counts() == (1, 1)


KAI = "the child"


@pytest.mark.parametrize(
    "data",
    [
        {"record_classes": ["exploitation_case_record"]},
        {"child_id": "not-a-uuid", "record_classes": ["exploitation_case_record"]},
        {"child_id": KAI},
        {"child_id": KAI, "record_classes": []},
        {"child_id": KAI, "record_classes": ["birthday_cards"]},
    ],
)
def test_a_disposal_event_that_does_not_say_what_went_is_refused_and_nothing_changes(
    agenda_client, tokens, data
):
    meetings, services = agenda_client
    made = meeting_with_ava_on_it(meetings, services, tokens)
    event = child_disposed(made["ava"])
    event["data"] = {name: made["ava"] if value == KAI else value for name, value in data.items()}
    assert deliver(meetings, event) == 422
    with meetings.app.state.database.sessions() as session:
        item = session.get_one(AgendaItem, uuid.UUID(made["about_ava"]["id"]))
        assert item.child_ids == [made["ava"]]
