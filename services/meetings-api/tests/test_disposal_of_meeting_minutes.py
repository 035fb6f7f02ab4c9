"""A meeting's minutes are kept for the schedule's period (75 years after the meeting, by
the default schedule) and then go: the items' titles, reasons, minutes and children, the
decisions, the actions' descriptions and owners, the attendees' names. The action figures
answer as before; a disposal record says which meeting's minutes went, under which rule.
A hold on the class keeps every meeting's minutes; a hold on a child or a person of concern
keeps the meetings that discussed them. The dry run lists exactly what the run then does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from meetings_retention_events import deliver, hold_placed, hold_released, mentions
from meetings_scenarios import COORDINATOR, series_body
from sqlalchemy import select, update

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.database import AUDIT, DISPOSALS
from meetings_api.disposal.job import dispose_once
from meetings_api.disposal.minutes import dispose_expired_minutes
from meetings_api.disposal.models import RetentionHold
from meetings_api.occurrences.models import Attendance, Occurrence
from safeguarding_kit.periods import england_day, england_midnight
from safeguarding_kit.retention.schedule import load_schedule

SCHEDULE = load_schedule()
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
ATTENDEES = [
    {
        "agency": "sheffield-social-care",
        "agency_type": "social_care",
        "person_name": "Jo Chair",
        "role": "Chair",
        "status": "present",
    },
    {
        "agency": "south-yorkshire-police",
        "agency_type": "police",
        "person_name": "DS Lee Example",
        "status": "present",
    },
    {
        "agency": "sheffield-health",
        "agency_type": "health",
        "person_name": "Sam Nurse",
        "status": "apologies",
    },
]


def two_weekly_meetings(meetings, services, tokens) -> dict[str, Any]:
    """A MACE three weeks ago and the one a week after, each with Ava's item (minuted, a
    decision, two actions) and a hand-made item; the first with its attendance. The series'
    later meetings discussed nothing."""
    coordinator = tokens.headers(**COORDINATOR)
    ava = services.referrals.referral()["child_id"]
    start = date.today() - timedelta(weeks=3)
    series = meetings.post(
        "/api/v1/meetings/series",
        headers=coordinator,
        json=series_body(first_meeting_local=f"{start.isoformat()}T10:00:00", rrule="FREQ=WEEKLY"),
    ).json()
    first, second, *others = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        headers=coordinator,
        params={"from": f"{start.isoformat()}T00:00:00Z"},
    ).json()["items"]
    assert others
    made: dict[str, Any] = {"ava": ava, "occurrences": [first, second], "others": others, "actions": []}
    for occurrence in (first, second):
        generated = meetings.post(
            f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/generate", headers=coordinator
        )
        assert generated.status_code == 200, generated.text
        [item] = [i for i in generated.json()["items"] if i["child_ids"] == [ava]]
        minuted = meetings.patch(
            f"/api/v1/meetings/agenda-items/{item['id']}",
            json={"minutes": "Ava was found at the flat on Spital Hill with two adults."},
            headers={**coordinator, "If-Match": f'"{item["version"]}"'},
        )
        assert minuted.status_code == 200, minuted.text
        added = meetings.post(
            f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/items",
            json={"kind": "other", "title": "Hotel watch scheme update", "reason": "Police request"},
            headers=coordinator,
        )
        assert added.status_code == 201, added.text
        decided = meetings.post(
            f"/api/v1/meetings/agenda-items/{item['id']}/decisions",
            json={"text": "Strategy discussion for Ava under section 47."},
            headers=coordinator,
        )
        assert decided.status_code == 201, decided.text
        for owner in ("sheffield-health", "south-yorkshire-police"):
            action = meetings.post(
                f"/api/v1/meetings/agenda-items/{item['id']}/actions",
                headers=coordinator,
                json={
                    "description": "Share the disruption plan for the Spital Hill flat",
                    "owner_agency": owner,
                    "owner_person": "Dr Example",
                    "due_date": (
                        date.fromisoformat(occurrence["starts_at"][:10]) + timedelta(days=5)
                    ).isoformat(),
                    "child_id": ava,
                },
            )
            assert action.status_code == 201, action.text
            made["actions"].append(action.json())
            with meetings.app.state.database.sessions() as session:  # agreed at the meeting
                session.execute(
                    update(Action)
                    .where(Action.id == uuid.UUID(action.json()["id"]))
                    .values(created_at=datetime.fromisoformat(occurrence["starts_at"].replace("Z", "+00:00")))
                )
                session.commit()
    register = meetings.put(
        f"/api/v1/meetings/occurrences/{first['id']}/attendance",
        json={"attendees": ATTENDEES},
        headers=coordinator,
    )
    assert register.status_code == 200, register.text
    made["quorate"] = register.json()["quorate"]
    return made


def day_due(occurrence: dict[str, Any]) -> datetime:
    """Noon on the first day the meeting's minutes may go: 75 years and a day after it."""
    started = england_day(datetime.fromisoformat(occurrence["starts_at"].replace("Z", "+00:00")))
    return england_midnight(started + relativedelta(years=75, days=1)) + timedelta(hours=12)


def dispose(app, now: datetime, *, dry_run: bool) -> list:
    with app.state.database.sessions() as session:
        return dispose_expired_minutes(session, SCHEDULE, now, dry_run)


def minutes_of(app, occurrence_id: str) -> dict[str, Any]:
    """What the meeting's record holds, as text."""
    occurrence = uuid.UUID(occurrence_id)
    with app.state.database.sessions() as session:
        items = session.scalars(select(AgendaItem).where(AgendaItem.occurrence_id == occurrence)).all()
        return {
            "titles": sorted(i.title for i in items),
            "minutes": sorted(i.minutes or "" for i in items),
            "children": sorted(c for i in items for c in i.child_ids),
            "reasons": sorted(r["detail"] for i in items for r in i.reasons),
            "decisions": sorted(
                session.scalars(
                    select(Decision.text).where(Decision.agenda_item_id.in_([i.id for i in items]))
                ).all()
            ),
            "actions": sorted(
                (a.description, a.owner_person, str(a.child_id))
                for a in session.scalars(select(Action).where(Action.occurrence_id == occurrence))
            ),
            "attendees": sorted(
                (a.agency, a.person_name, a.role)
                for a in session.scalars(select(Attendance).where(Attendance.occurrence_id == occurrence))
            ),
        }


def action_figures(meetings, tokens) -> dict[str, Any]:
    response = meetings.get(
        "/api/v1/meetings/stats/actions",
        headers=tokens.headers(**ANALYST),
        params={"from": (date.today() - timedelta(weeks=4)).isoformat(), "to": date.today().isoformat()},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_meetings_minutes_go_the_day_after_75_years_and_the_figures_stay(agenda_client, tokens):
    meetings, services = agenda_client
    made = two_weekly_meetings(meetings, services, tokens)
    first, second = made["occurrences"]
    second_before = minutes_of(meetings.app, second["id"])
    figures = action_figures(meetings, tokens)
    assert sum(c["count"] for c in figures["cells"]) == 4

    assert dispose(meetings.app, day_due(first) - timedelta(days=1), dry_run=False) == []
    [disposed] = dispose(meetings.app, day_due(first), dry_run=False)

    assert (disposed.occurrence_id, disposed.agenda_items, disposed.decisions, disposed.actions) == (
        uuid.UUID(first["id"]),
        2,
        1,
        2,
    )
    assert minutes_of(meetings.app, first["id"]) == {
        "titles": ["Item of a meeting whose minutes were disposed of"] * 2,
        "minutes": ["", ""],
        "children": [],
        "reasons": [],
        "decisions": ["Decision of a meeting whose minutes were disposed of"],
        "actions": [("Action of a meeting whose minutes were disposed of", None, "None")] * 2,
        "attendees": [
            ("sheffield-health", "Attendee 1 (minutes disposed of)", None),
            ("sheffield-social-care", "Attendee 2 (minutes disposed of)", None),
            ("south-yorkshire-police", "Attendee 3 (minutes disposed of)", None),
        ],
    }
    assert minutes_of(meetings.app, second["id"]) == second_before  # a week younger: not yet
    assert action_figures(meetings, tokens) == figures
    coordinator = tokens.headers(**COORDINATOR)
    attendance = meetings.get(f"/api/v1/meetings/occurrences/{first['id']}/attendance", headers=coordinator)
    assert attendance.json()["quorate"] == made["quorate"]
    with meetings.app.state.database.sessions() as session:
        [record] = session.execute(select(DISPOSALS)).mappings().all()
        audited = session.execute(
            select(AUDIT.log.c.actor_sub, AUDIT.log.c.child_id).where(
                AUDIT.log.c.action == "dispose", AUDIT.log.c.resource_id == first["id"]
            )
        ).all()
    assert {k: record[k] for k in ("record_class", "rule", "subject_type", "subject_id", "cause")} == {
        "record_class": "meeting_minutes",
        "rule": "75 years after the last activity",
        "subject_type": "meeting",
        "subject_id": uuid.UUID(first["id"]),
        "cause": "retention",
    }
    assert record["schedule_version"] == SCHEDULE.version
    assert [(a.actor_sub, str(a.child_id)) for a in audited] == [("system:retention", made["ava"])]

    # Done once: the next run finds nothing more of the first meeting.
    assert dispose(meetings.app, day_due(first), dry_run=False) == []


def test_the_dry_run_lists_exactly_what_the_run_then_does_and_changes_nothing(agenda_client, tokens):
    meetings, services = agenda_client
    made = two_weekly_meetings(meetings, services, tokens)
    first, second = made["occurrences"]
    later = day_due(second) + timedelta(days=1)
    before = {o["id"]: minutes_of(meetings.app, o["id"]) for o in (first, second)}

    dry = dispose(meetings.app, later, dry_run=True)

    assert [d.occurrence_id for d in dry] == [uuid.UUID(first["id"]), uuid.UUID(second["id"])]
    assert {o["id"]: minutes_of(meetings.app, o["id"]) for o in (first, second)} == before
    with meetings.app.state.database.sessions() as session:
        assert session.execute(select(DISPOSALS)).first() is None
    assert dispose(meetings.app, later, dry_run=False) == dry
    assert dispose(meetings.app, later, dry_run=True) == []


def test_a_hold_on_meeting_minutes_keeps_every_meetings_minutes_until_it_is_released(agenda_client, tokens):
    meetings, services = agenda_client
    made = two_weekly_meetings(meetings, services, tokens)
    first, _ = made["occurrences"]
    before = minutes_of(meetings.app, first["id"])
    hold = hold_placed("record_class", record_class="meeting_minutes")
    assert deliver(meetings, hold) == 204
    assert deliver(meetings, hold_placed("record_class", record_class="missing_episode")) == 204

    assert dispose(meetings.app, day_due(first), dry_run=True) == []
    assert dispose(meetings.app, day_due(first), dry_run=False) == []
    assert minutes_of(meetings.app, first["id"]) == before

    assert deliver(meetings, hold_released(hold)) == 204
    assert [d.occurrence_id for d in dispose(meetings.app, day_due(first), dry_run=False)] == [
        uuid.UUID(first["id"])
    ]


def test_a_hold_on_a_child_keeps_the_meetings_that_discussed_them(agenda_client, tokens):
    meetings, services = agenda_client
    made = two_weekly_meetings(meetings, services, tokens)
    first, second = made["occurrences"]
    before = {o["id"]: minutes_of(meetings.app, o["id"]) for o in (first, second)}
    assert deliver(meetings, hold_placed("child", subject_id=made["ava"])) == 204
    after_all = day_due(made["others"][-1])

    disposed = dispose(meetings.app, after_all, dry_run=False)

    # The later meetings, which discussed no one held, went; the two about Ava stay.
    assert [d.occurrence_id for d in disposed] == [uuid.UUID(o["id"]) for o in made["others"]]
    assert {o["id"]: minutes_of(meetings.app, o["id"]) for o in (first, second)} == before


def test_a_76_year_old_meetings_minutes_go_at_the_services_next_run(agenda_client, tokens):
    meetings, services = agenda_client
    made = two_weekly_meetings(meetings, services, tokens)
    first, second = made["occurrences"]
    long_ago = datetime.combine(date.today() - relativedelta(years=76), time(10), UTC)
    with meetings.app.state.database.sessions() as session:
        session.execute(
            update(Occurrence).where(Occurrence.id == uuid.UUID(first["id"])).values(starts_at=long_ago)
        )
        session.commit()

    [disposed] = dispose_once(meetings.app.state.database, SCHEDULE)

    assert disposed.occurrence_id == uuid.UUID(first["id"])
    assert minutes_of(meetings.app, first["id"])["minutes"] == ["", ""]
    # What is left of the flat on Spital Hill is the second meeting's record, a week younger.
    with meetings.app.state.database.sessions() as session:
        assert mentions(session, "Spital Hill") == {"agenda_items": 1, "actions": 2}
    assert (
        "Ava was found at the flat on Spital Hill with two adults."
        in minutes_of(meetings.app, second["id"])["minutes"]
    )


def test_a_hold_that_does_not_say_what_it_holds_is_refused_and_an_unknown_release_is_nothing(agenda_client):
    meetings, _ = agenda_client
    nameless_class = hold_placed("record_class")
    nameless_child = hold_placed("child")
    unknown_class = hold_placed("record_class", record_class="birthday_cards")
    for refused in (nameless_class, nameless_child, unknown_class):
        assert deliver(meetings, refused) == 422
    assert (
        deliver(meetings, hold_released(hold_placed("record_class", record_class="meeting_minutes"))) == 204
    )
    with meetings.app.state.database.sessions() as session:
        assert session.execute(select(RetentionHold)).first() is None
