"""MACE agendas built from what the risk and referral services know (faked at their HTTP
boundary: meetings_fake_services), minutes, decisions and actions carried forward, and the
calendar feed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar
from meetings_scenarios import COORDINATOR, POLICE, first_meeting_in_two_days_local, series_body
from sqlalchemy import create_engine, select, update

from meetings_api.actions.models import Action
from meetings_api.actions.sweeper import sweep_once
from meetings_api.database import EVENTS
from safeguarding_kit.db import normalise_url
from safeguarding_kit.disclosure import MAX_NOISE


def next_mace(meetings, tokens):
    series = meetings.post(
        "/api/v1/meetings/series",
        json=series_body(first_meeting_local=first_meeting_in_two_days_local(), rrule="FREQ=WEEKLY"),
        headers=tokens.headers(**COORDINATOR),
    ).json()
    listed = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**POLICE)
    ).json()["items"]
    return series, listed[0]


def generate(meetings, tokens, occurrence):
    response = meetings.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/generate",
        params={"limit": 100},
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None  # every agenda here fits one page
    return response.json()["items"]


def test_two_children_rising_to_high_and_one_review_due_are_exactly_the_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    rising = ["3f0e9a1c-0b1d-4c5e-8f7a-1b2c3d4e5f60", "4a1f0b2d-1c2e-4d6f-9a8b-2c3d4e5f6071"]
    for child_id in rising:
        services.risk.assessed(child_id, "medium")
        services.risk.assessed(child_id, "high")
    review_due = "5b2a1c3e-2d3f-4e70-8b9c-3d4e5f607182"
    # Low, its review due in a day: before the meeting two days away.
    services.risk.assessed(review_due, "low", review_due=datetime.now(UTC) + timedelta(days=1))

    _, occurrence = next_mace(meetings, tokens)
    items = generate(meetings, tokens, occurrence)
    reasons = {item["child_ids"][0]: {r["code"] for r in item["reasons"]} for item in items}
    assert reasons == {
        rising[0]: {"became_high", "risk_rose"},
        rising[1]: {"became_high", "risk_rose"},
        review_due: {"review_due"},
    }
    again = generate(meetings, tokens, occurrence)
    assert again == items


def test_new_and_repeat_referrals_never_at_mace_are_on_the_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    new = services.referrals.referral(summary="Ali Example seen with older males after school.")
    repeat_child = str(uuid.uuid4())
    services.referrals.referral(repeat_child, "missing")
    repeat = services.referrals.referral(repeat_child)
    _, occurrence = next_mace(meetings, tokens)
    items = generate(meetings, tokens, occurrence)
    reasons = {item["child_ids"][0]: {r["code"] for r in item["reasons"]} for item in items}
    assert reasons[new["child_id"]] == {"new_referral"}
    assert reasons[repeat["child_id"]] == {"new_referral", "repeat_never_at_mace"}
    # Titles are built from ids, never from what a referral says or who made it.
    assert all(
        "Example" not in item["title"] and "Ali" not in item["title"] and "Sam" not in item["title"]
        for item in items
    )


def test_a_cetg_agenda_lists_persons_of_concern_with_their_linked_children_as_one_item(agenda_client, tokens):
    meetings, services = agenda_client
    made = services.referrals.referral()
    other = services.referrals.referral()
    person = services.referrals.person_of_concern("Shadz", [made["child_id"], other["child_id"]])
    series = meetings.post(
        "/api/v1/meetings/series",
        headers=tokens.headers(**COORDINATOR),
        json=series_body(
            meeting_type="CETG",
            title="CETG",
            first_meeting_local=first_meeting_in_two_days_local(),
            rrule="FREQ=WEEKLY",
        ),
    ).json()
    occurrence = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**COORDINATOR)
    ).json()["items"][0]
    items = generate(meetings, tokens, occurrence)
    [group] = [i for i in items if i["kind"] == "person_of_concern"]
    assert sorted(group["child_ids"]) == sorted([made["child_id"], other["child_id"]])
    assert group["subject_id"] == person["id"]


def test_regenerating_keeps_hand_made_items_order_and_minutes(agenda_client, tokens):
    meetings, services = agenda_client
    services.referrals.referral()
    services.referrals.referral(concern="sexual_exploitation")
    _, occurrence = next_mace(meetings, tokens)
    first = generate(meetings, tokens, occurrence)
    coordinator = tokens.headers(**COORDINATOR)
    manual = meetings.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/items",
        json={"kind": "other", "title": "Hotel watch scheme update", "reason": "Police request"},
        headers=coordinator,
    ).json()
    moved = meetings.patch(
        f"/api/v1/meetings/agenda-items/{manual['id']}",
        json={"position": 1},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    current = meetings.get(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda", headers=coordinator
    ).json()["items"]
    version = next(i["version"] for i in current if i["id"] == first[0]["id"])  # moving renumbered it
    minuted = meetings.patch(
        f"/api/v1/meetings/agenda-items/{first[0]['id']}",
        json={"minutes": "Plan agreed."},
        headers={**coordinator, "If-Match": f'"{version}"'},
    )
    assert minuted.status_code == 200, minuted.text

    before = meetings.get(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda", headers=coordinator
    ).json()["items"]
    after = generate(meetings, tokens, occurrence)
    assert [(i["id"], i["position"], i["minutes"]) for i in after] == [
        (i["id"], i["position"], i["minutes"]) for i in before
    ]
    assert after[0]["id"] == manual["id"]


def test_an_action_not_done_by_its_due_date_is_overdue_and_on_the_next_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    made = services.referrals.referral()
    three_weeks_ago = date.today() - timedelta(weeks=3)
    coordinator = tokens.headers(**COORDINATOR)
    series = meetings.post(
        "/api/v1/meetings/series",
        headers=coordinator,
        json=series_body(first_meeting_local=f"{three_weeks_ago.isoformat()}T10:00:00", rrule="FREQ=WEEKLY"),
    ).json()
    meetings_list = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        headers=coordinator,
        params={"from": f"{three_weeks_ago.isoformat()}T00:00:00Z"},
    ).json()["items"]
    first, second = meetings_list[0], meetings_list[1]
    [item] = generate(meetings, tokens, first)
    too_early = meetings.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/actions",
        headers=coordinator,
        json={
            "description": "Visit",
            "owner_agency": "south-yorkshire-police",
            "due_date": (three_weeks_ago - timedelta(days=1)).isoformat(),
        },
    )
    assert too_early.status_code == 422
    assert too_early.json()["errors"][0]["pointer"] == "#/due_date"
    # An action is owned by an agency of the partnership agreement: an invented one would
    # hear of overdue actions and read them.
    invented = meetings.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/actions",
        headers=coordinator,
        json={
            "description": "Visit",
            "owner_agency": "made-up-agency",
            "due_date": (three_weeks_ago + timedelta(days=5)).isoformat(),
        },
    )
    assert invented.status_code == 422
    assert invented.json()["errors"][0]["pointer"] == "#/owner_agency"
    action = meetings.post(
        f"/api/v1/meetings/agenda-items/{item['id']}/actions",
        headers=coordinator,
        json={
            "description": "Disruption visit to the takeaway",
            "owner_agency": "south-yorkshire-police",
            "due_date": (three_weeks_ago + timedelta(days=5)).isoformat(),
            "child_id": made["child_id"],
        },
    )
    assert action.status_code == 201, action.text
    assert action.json()["overdue"] is True

    carried = meetings.get(
        f"/api/v1/meetings/occurrences/{second['id']}/actions", headers=coordinator
    ).json()["items"]
    assert [a["id"] for a in carried] == [action.json()["id"]]
    next_items = generate(meetings, tokens, second)
    assert any(r["code"] == "overdue_action" for i in next_items for r in i["reasons"])
    overdue = meetings.get("/api/v1/meetings/actions/overdue", headers=coordinator).json()["items"]
    assert [(g["owner_agency"], g["overdue"]) for g in overdue] == [("south-yorkshire-police", 1)]
    # The sweep announces it to the other services and partners, once.
    assert sweep_once(meetings.app.state.database, meetings.app.state.outbox) == 1
    assert sweep_once(meetings.app.state.database, meetings.app.state.outbox) == 0
    with meetings.app.state.database.sessions() as session:
        [event] = session.execute(
            select(EVENTS.events.c.type, EVENTS.events.c.subject, EVENTS.events.c.data).where(
                EVENTS.events.c.type == "meeting.action_overdue"
            )
        ).all()
    assert event.subject == made["child_id"]
    assert event.data["action_id"] == action.json()["id"]
    assert event.data["owner_agency"] == "south-yorkshire-police"

    done = meetings.patch(
        f"/api/v1/meetings/actions/{action.json()['id']}",
        json={"status": "done"},
        headers={**coordinator, "If-Match": action.headers["etag"]},
    )
    assert done.json()["status"] == "done"
    assert meetings.get(
        f"/api/v1/meetings/occurrences/{second['id']}/actions", headers=coordinator
    ).json() == {"items": [], "next_cursor": None}
    assert meetings.get("/api/v1/meetings/actions/overdue", headers=coordinator).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_an_agenda_is_built_by_coordinators_of_agencies_that_chair_meetings_only(agenda_client, tokens):
    meetings, services = agenda_client
    _, occurrence = next_mace(meetings, tokens)
    url = f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/generate"
    # The MASH health team sees every child (all_cases) but the agreement does not have it chair.
    health_coordinator = {
        "agency": "sheffield-health",
        "agency_type": "health",
        "roles": ["meeting_coordinator"],
    }
    refused = meetings.post(url, headers=tokens.headers(**health_coordinator))
    assert refused.status_code == 403
    assert "chairs_meetings" in refused.json()["detail"]
    # The police exploitation unit chairs the CETG: its coordinator builds agendas with its own token.
    police_coordinator = {
        "agency": "south-yorkshire-police",
        "agency_type": "police",
        "roles": ["meeting_coordinator"],
    }
    police_headers = tokens.headers(**police_coordinator)
    services.requests.clear()
    response = meetings.post(url, headers=police_headers)
    assert response.status_code == 200, response.text
    assert services.bearer_tokens() == {police_headers["Authorization"].removeprefix("Bearer ")}


def test_the_calendar_feed_has_the_rule_exdates_and_no_child(agenda_client, tokens):
    meetings, services = agenda_client
    made = services.referrals.referral(summary="Flo Example seen with older males after school.")
    series, occurrence = next_mace(meetings, tokens)
    generate(meetings, tokens, occurrence)
    coordinator = tokens.headers(**COORDINATOR)
    listed = meetings.get(f"/api/v1/meetings/series/{series['id']}/occurrences", headers=coordinator).json()[
        "items"
    ]
    meetings.post(
        f"/api/v1/meetings/occurrences/{listed[1]['id']}/cancel",
        json={"reason": "Training day"},
        headers={**coordinator, "If-Match": '"1"'},
    )
    feed = meetings.get(f"/api/v1/meetings/series/{series['id']}/calendar.ics", headers=coordinator)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    [master] = [e for e in calendar.walk("VEVENT") if "RRULE" in e]
    assert master["RRULE"]["FREQ"] == ["WEEKLY"]
    assert master.get("EXDATE") is not None
    assert made["child_id"] not in feed.text
    assert "Example" not in feed.text


OUTCOMES = ["done_on_time", "done_late", "overdue", "not_yet_due", "cancelled"]
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
PARTNER_MANAGER = {"agency": "sheffield-health", "agency_type": "health", "roles": ["manager"]}


def agreed_actions(meetings, tokens, item, owners: list[str], due: date) -> list[dict]:
    made = []
    for owner in owners:
        response = meetings.post(
            f"/api/v1/meetings/agenda-items/{item['id']}/actions",
            headers=tokens.headers(**COORDINATOR),
            json={"description": "Share plan", "owner_agency": owner, "due_date": due.isoformat()},
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


def action_figures(meetings, tokens, who, **params):
    response = meetings.get("/api/v1/meetings/stats/actions", headers=tokens.headers(**who), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_action_figures_count_outcomes_per_agency(agenda_client, tokens):
    meetings, services = agenda_client
    services.referrals.referral()
    _, occurrence = next_mace(meetings, tokens)
    [item] = generate(meetings, tokens, occurrence)
    agreed_actions(meetings, tokens, item, ["sheffield-health"] * 6, date.today() + timedelta(days=10))
    figures = action_figures(
        meetings,
        tokens,
        ANALYST,
        **{"from": date.today().isoformat(), "to": (date.today() + timedelta(days=30)).isoformat()},
    )
    assert figures["exact"] is True
    cells = {(c["key"]["owner_agency"], c["key"]["outcome"]): c["count"] for c in figures["cells"]}
    # Every agency of the agreement (a family of schools as one row, then other) and every outcome.
    agencies = list(dict.fromkeys(agency for agency, _ in cells))
    assert {"sheffield-health", "south-yorkshire-police", "school-*"} <= set(agencies)
    assert agencies[-1] == "other"
    assert list(cells) == [(a, o) for a in agencies for o in OUTCOMES]
    assert {k: n for k, n in cells.items() if n} == {("sheffield-health", "not_yet_due"): 6}


def test_action_figures_for_partners_count_last_month_as_it_stood_and_hide_small_counts(
    agenda_client, tokens, database_url
):
    meetings, services = agenda_client
    services.referrals.referral()
    _, occurrence = next_mace(meetings, tokens)
    [item] = generate(meetings, tokens, occurrence)
    made = agreed_actions(
        meetings,
        tokens,
        item,
        ["sheffield-health"] * 9 + ["school-abbeydale-grange", "school-king-edward"] + ["leeds-health"],
        date.today() + timedelta(days=10),
    )
    # Agreed last month, due on its 20th: the health team did seven on time; the schools
    # did one late and one not at all; the last one's agency has since left the agreement
    # (its action counts under "other"), and it is overdue too.
    this_month = date.today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    at = lambda day, hour=12: datetime(last_month.year, last_month.month, day, hour, tzinfo=UTC)  # noqa: E731
    done_on_time = [a["id"] for a in made[:7]]
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            update(Action)
            .where(Action.id.in_([uuid.UUID(a["id"]) for a in made]))
            .values(created_at=at(3), due_date=last_month.replace(day=20))
        )
        conn.execute(
            update(Action)
            .where(Action.id.in_([uuid.UUID(i) for i in done_on_time]))
            .values(status="done", completed_at=at(18))
        )
        conn.execute(
            update(Action)
            .where(Action.id == uuid.UUID(made[9]["id"]))
            .values(status="done", completed_at=at(24))
        )
        conn.execute(
            update(Action).where(Action.id == uuid.UUID(made[11]["id"])).values(owner_agency="lost-agency")
        )
    engine.dispose()
    truth = {("sheffield-health", "done_on_time"): 7, ("sheffield-health", "overdue"): 2}
    truth |= {("school-*", "done_late"): 1, ("school-*", "overdue"): 1, ("other", "overdue"): 1}
    period = f"{last_month.year}-{last_month.month:02d}"

    exact = action_figures(meetings, tokens, ANALYST, period=period)
    cells = {(c["key"]["owner_agency"], c["key"]["outcome"]): c["count"] for c in exact["cells"]}
    assert {k: n for k, n in cells.items() if n} == truth

    shown = action_figures(meetings, tokens, PARTNER_MANAGER, period=period)
    assert shown["exact"] is False
    assert [(c["key"]["owner_agency"], c["key"]["outcome"]) for c in shown["cells"]] == list(cells)
    for cell in shown["cells"]:
        true = truth.get((cell["key"]["owner_agency"], cell["key"]["outcome"]), 0)
        if cell["suppressed"] is None:
            assert cell["count"] == 0 or cell["count"] > 5, cell
            assert abs(cell["count"] - true) <= MAX_NOISE, cell
            assert (cell["count"] == 0) == (true == 0), cell
        else:
            assert (cell["count"], cell["display"]) == (None, "c")
            assert true > 0
    assert {c["display"] for c in shown["cells"] if 1 <= truth.get(tuple(c["key"].values()), 0) <= 5} == {"c"}

    # This month one overdue health action is done and the other cancelled: last month's
    # figures, and this year's as partners see them, stay as they were.
    year = action_figures(meetings, tokens, PARTNER_MANAGER)
    coordinator = tokens.headers(**COORDINATOR)
    for action, status in zip(made[7:9], ("done", "cancelled"), strict=True):
        changed = meetings.patch(
            f"/api/v1/meetings/actions/{action['id']}",
            json={"status": status},
            headers={**coordinator, "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
    assert action_figures(meetings, tokens, PARTNER_MANAGER, period=period) == shown
    assert action_figures(meetings, tokens, PARTNER_MANAGER) == year
    assert action_figures(meetings, tokens, ANALYST, period=period) == exact


def test_a_child_missing_twice_and_never_at_mace_goes_on_the_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    child_id = str(uuid.uuid4())  # registered by social care, never referred
    for days_ago in (20, 5):
        at = datetime.combine(date.today() - timedelta(days=days_ago), time(8), UTC)
        services.referrals.missing(child_id, reported_missing_at=at)
    _, occurrence = next_mace(meetings, tokens)
    items = generate(meetings, tokens, occurrence)
    [item] = [i for i in items if i["child_ids"] == [child_id]]
    assert {r["code"] for r in item["reasons"]} == {"repeat_missing", "repeat_never_at_mace"}


def test_children_linked_through_one_adult_are_one_item_on_a_mace_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    first = services.referrals.referral()
    second = services.referrals.referral()
    services.referrals.person_of_concern("Tee", [first["child_id"], second["child_id"]])
    _, occurrence = next_mace(meetings, tokens)
    items = generate(meetings, tokens, occurrence)
    assert len(items) == 1
    assert items[0]["kind"] == "children_group"
    assert sorted(items[0]["child_ids"]) == sorted([first["child_id"], second["child_id"]])


def test_a_child_at_medium_risk_not_reviewed_for_twelve_weeks_is_on_the_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    stale, fresh = "6c3b2d4f-3e4a-4f81-9cad-4e5f60718293", "7d4c3e5a-4f5b-4a92-8dbe-5f6071829304"
    services.risk.assessed(stale, "medium", at=datetime.now(UTC) - timedelta(weeks=13))  # last quarter
    services.risk.assessed(fresh, "medium")

    _, occurrence = next_mace(meetings, tokens)
    reasons = {
        item["child_ids"][0]: {r["code"] for r in item["reasons"]}
        for item in generate(meetings, tokens, occurrence)
    }
    assert "not_reviewed" in reasons[stale]
    assert "not_reviewed" not in reasons.get(fresh, set())


def test_a_mapping_agenda_lists_each_place_of_concern_with_its_children_and_ward_but_no_names(
    agenda_client, tokens
):
    meetings, services = agenda_client
    seen_there = services.referrals.referral(summary="Fay Example seen at the takeaway on London Road.")
    place = services.referrals.place_of_concern(
        "Late-night takeaway, London Road", "takeaway", "E05010863", [seen_there["child_id"]]
    )
    series = meetings.post(
        "/api/v1/meetings/series",
        headers=tokens.headers(**COORDINATOR),
        json=series_body(
            meeting_type="MAPPING",
            title="Monthly mapping",
            first_meeting_local=first_meeting_in_two_days_local(),
            rrule="FREQ=MONTHLY",
        ),
    ).json()
    occurrence = meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**COORDINATOR)
    ).json()["items"][0]
    [item] = [i for i in generate(meetings, tokens, occurrence) if i["kind"] == "place_of_concern"]
    assert item["subject_id"] == place["id"]
    assert item["child_ids"] == [seen_there["child_id"]]
    assert [r["detail"] for r in item["reasons"]] == ["ward E05010863"]
    assert "Fay" not in item["title"]  # the child's name never reaches the meetings service
    assert "Example" not in item["title"]
