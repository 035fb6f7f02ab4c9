"""The scrutiny committee's support and disruption figures for a past year do not change when
records are disposed of: a child's supports and their contacts go with the child's record and a
person's or place's disruption actions go with them, but de-identified facts of each are kept
(kind, provider, dates, end reason, risk levels, engagement; kind, day, charge or conviction;
never a child, a person, a place, a reference or text), and every figure counts the live
records and the facts together, exact and protected alike."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations
from typing import Any, NamedTuple

import pytest
from referral_scenarios import HUB_MANAGER, POLICE, SOCIAL_WORKER, bearer, child_details
from retention_scenarios import LONG_AFTER, as_of, listed, place_hold, release, run
from sqlalchemy import Date, Enum, String, Text, func, inspect, select, update
from support_scenarios import ANALYST, HUB_WORKER, deliver, end, offer, record_contact, risk_assessed, start

from referral_api.disruption import service as disruption_service
from referral_api.disruption.models import DisruptionAction
from referral_api.stats import routes as figure_routes
from referral_api.stats.models import DisruptionActionFact, SupportContactFact, SupportFact
from referral_api.stats.support import ContactGroupBy, SupportGroupBy
from referral_api.support.models import Support, SupportContact

OFFICER = {**POLICE, "roles": ["practitioner"]}
POLICE_ANALYST = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["analyst"]}
# Everything below was recorded by the end of the financial year 2025-26, long before the month
# protected figures are counted to.
RECORDED = datetime(2026, 3, 31, 12, tzinfo=UTC)

POST_ABUSE = {"kind": "therapeutic_post_abuse_support", "provider": {"service": "post-abuse-support"}}
YOUTH_GROUP = {"kind": "group_work", "provider": {"service": "community-youth-team"}}
ADVOCACY = {"kind": "advocacy", "provider": {"agency": "sheffield-youth"}}
SEXUAL_HEALTH = {"kind": "sexual_health", "provider": {"service": "sexual-health-service"}}


class Supported(NamedTuple):
    """One support of the year: for whom, what, when requested, started and ended (None: not
    yet), why it ended, and its contacts (day, kind of place, engagement)."""

    child: str
    body: dict[str, Any]
    requested: str
    started: str | None
    ended: str | None = None
    reason: str | None = None
    contacts: tuple[tuple[str, str, str], ...] = ()


# Jordan, Riley and Amira's records go; everyone else's are kept (held for an inquiry).
GOING = ("Jordan", "Riley", "Amira")
SUPPORTS = [
    Supported(
        "Jordan",
        POST_ABUSE,
        "2025-09-15T09:00:00+00:00",
        "2025-10-06T15:00:00+00:00",
        "2025-11-28T16:00:00+00:00",
        "goals_met",
        (
            ("2025-10-13", "secure_unit", "engaged"),
            ("2025-10-27", "community_venue", "partly_engaged"),
            ("2025-11-10", "online", "did_not_attend"),
        ),
    ),
    Supported(
        "Jordan",
        YOUTH_GROUP,
        "2025-10-02T10:00:00+00:00",
        "2025-10-20T17:00:00+00:00",
        contacts=(("2025-10-27", "community_venue", "engaged"), ("2026-01-12", "school", "not_engaged")),
    ),
    Supported(
        "Riley",
        ADVOCACY,
        "2025-08-11T09:00:00+00:00",
        "2025-08-30T11:00:00+00:00",
        "2025-12-01T12:00:00+00:00",
        "disengaged",
        (("2025-09-03", "home", "engaged"), ("2025-11-05", "home", "did_not_attend")),
    ),
    Supported(
        "Amira",
        SEXUAL_HEALTH,
        "2025-11-10T09:00:00+00:00",
        None,
        "2025-11-20T09:00:00+00:00",
        "child_declined",
    ),
    # The children whose records stay: eight post-abuse supports and three youth groups in the
    # autumn, so that protected figures show counts (and a median), not only `c`.
    *(
        Supported(
            f"Stays{n}",
            POST_ABUSE,
            f"2025-09-{1 + n:02d}T09:00:00+00:00",
            f"2025-10-{2 + 3 * n:02d}T14:00:00+00:00",
            "2026-02-20T12:00:00+00:00" if n % 2 else None,
            "goals_met" if n % 2 else None,
            (("2025-11-03", "secure_unit", "engaged"), ("2025-12-01", "school", "partly_engaged")),
        )
        for n in range(8)
    ),
    *(
        Supported(
            f"Stays{n}",
            YOUTH_GROUP,
            "2025-10-01T09:00:00+00:00",
            f"2025-10-{10 + n:02d}T18:00:00+00:00",
            "2025-12-15T18:00:00+00:00",
            "moved_away" if n == 8 else "goals_met",
            (("2025-10-27", "community_venue", "engaged"),),
        )
        for n in range(8, 11)
    ),
]
# The children's assessed risk levels, as the risk service announced them: whose, level, when.
RISK_ASSESSED = [
    ("Jordan", "high", "2025-09-20T12:00:00+00:00"),
    ("Jordan", "medium", "2025-11-20T12:00:00+00:00"),
    ("Riley", "medium", "2025-08-01T12:00:00+00:00"),
    *((f"Stays{n}", "high", "2025-09-25T12:00:00+00:00") for n in range(0, 11, 2)),
    *((f"Stays{n}", "low", "2026-02-01T12:00:00+00:00") for n in range(1, 11, 3)),
]


class Disrupted(NamedTuple):
    """A disruption action of the year: against whom (a person's or place's name here), what,
    the day, its outcome."""

    target: str
    kind: str
    day: str
    outcome: str


# Shadz and the Station Hotel go; Dee and the Riverside Lodge stay (held).
PERSONS, PLACES = ("Shadz", "Dee"), ("Station Hotel", "Riverside Lodge")
ACTIONS = [
    Disrupted("Shadz", "child_abduction_warning_notice", "2025-08-14", "issued"),
    Disrupted("Shadz", "arrest", "2025-10-02", "no_further_action"),
    Disrupted("Shadz", "charge", "2025-10-18", "pending"),
    Disrupted("Shadz", "conviction", "2026-01-20", "convicted"),
    Disrupted("Shadz", "other", "2025-11-11", "issued"),  # its kind taken off the list since (below)
    Disrupted("Station Hotel", "closure_notice", "2025-11-03", "issued"),
    Disrupted("Station Hotel", "hotel_guest_information_notice", "2025-09-09", "issued"),
    *(Disrupted("Dee", "arrest", f"2025-10-{5 + n:02d}", "pending") for n in range(6)),
    Disrupted("Dee", "charge", "2025-12-02", "pending"),
    Disrupted("Riverside Lodge", "closure_notice", "2025-11-20", "issued"),
]
UNLISTED_KIND = "gang_injunction"  # in the partnership's own list once, no longer


class Year(NamedTuple):
    children: dict[str, str]
    persons: dict[str, str]
    places: dict[str, str]


def new_child(client, tokens, name: str) -> str:
    answer = client.post(
        "/api/v1/children", json=child_details(given_name=name), headers=bearer(tokens, SOCIAL_WORKER)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def supported(client, tokens, child_id: str, support: Supported) -> None:
    offered = offer(client, tokens, child_id, {**support.body, "requested_at": support.requested})
    assert offered.status_code == 201, offered.text
    current = offered.json()
    if support.started is not None:
        started = start(client, tokens, current, support.started, HUB_WORKER)
        assert started.status_code == 200, started.text
        current = started.json()
    for day, setting, engagement in support.contacts:
        contact = record_contact(
            client, tokens, current, HUB_WORKER, contacted_on=day, setting=setting, engagement=engagement
        )
        assert contact.status_code == 201, contact.text
    if support.ended is not None:
        ended = end(client, tokens, current, support.ended, str(support.reason), HUB_WORKER)
        assert ended.status_code == 200, ended.text


def disruption_action(client, tokens, year: Year, action: Disrupted) -> None:
    target = (
        {"person_of_concern_id": year.persons[action.target]}
        if action.target in year.persons
        else {"place_of_concern_id": year.places[action.target]}
    )
    body: dict[str, Any] = {
        **target,
        "kind": action.kind,
        "action_date": action.day,
        "outcome": action.outcome,
        "reference": f"SYP-{action.day}-{action.kind[:6]}",
        "child_ids": [year.children["Jordan"]],
    }
    if action.kind == "other":
        body["other_text"] = "Gang injunction applied for at Sheffield County Court."
    answer = client.post("/api/v1/disruption/actions", json=body, headers=bearer(tokens, OFFICER))
    assert answer.status_code == 201, answer.text


def a_year_of_support_and_disruption(client, tokens, support_clock, monkeypatch) -> Year:
    names = dict.fromkeys(s.child for s in SUPPORTS)
    children = {name: new_child(client, tokens, name) for name in names}
    for name, level, time in RISK_ASSESSED:
        assert deliver(client, risk_assessed(children[name], level, time)) == 204
    support_clock.now = RECORDED
    for support in SUPPORTS:
        supported(client, tokens, children[support.child], support)
    officer = bearer(tokens, OFFICER)
    persons = {
        alias: str(
            client.post("/api/v1/persons-of-concern", json={"alias": alias}, headers=officer).json()["id"]
        )
        for alias in PERSONS
    }
    places = {
        name: str(
            client.post(
                "/api/v1/places-of-concern",
                json={"place_type": "hotel", "name": name, "ward_code": "E05010863"},
                headers=officer,
            ).json()["id"]
        )
        for name in PLACES
    }
    year = Year(children, persons, places)
    monkeypatch.setattr(disruption_service, "utc_now", lambda: RECORDED)
    for action in ACTIONS:
        disruption_action(client, tokens, year, action)
    with client.app.state.database.sessions() as session:
        session.execute(
            update(DisruptionAction).where(DisruptionAction.kind == "other").values(kind=UNLISTED_KIND)
        )
        session.commit()
    return year


@pytest.fixture
def year(client, tokens, support_clock, monkeypatch) -> Year:
    # Exact figures count what was recorded up to the moment asked: hold that moment still.
    asked_at = datetime.now(UTC)
    monkeypatch.setattr(figure_routes, "utc_now", lambda: asked_at)
    return a_year_of_support_and_disruption(client, tokens, support_clock, monkeypatch)


# --- Every support and disruption figure, as each reader reads it ------------------------------

SUPPORT_GROUPINGS = [(g.value,) for g in SupportGroupBy] + [
    (a.value, b.value) for a, b in combinations(SupportGroupBy, 2)
]
CONTACT_GROUPINGS = [(g.value,) for g in ContactGroupBy] + [
    (a.value, b.value) for a, b in combinations(ContactGroupBy, 2)
]
# A financial year, a quarter and a month for both readers; for the analyst, a window of odd
# instants ending just as Jordan's support ended.
ODD_WINDOW = {"from": "2025-08-30T11:00:00Z", "to": "2025-11-28T16:00:00Z"}
WINDOWS = [
    *(
        (who, {"period": period})
        for who in (ANALYST, HUB_MANAGER)
        for period in ("2025-26", "2025-26-Q3", "2025-10")
    ),
    (ANALYST, ODD_WINDOW),
]
DISRUPTION_READERS = (ANALYST, HUB_MANAGER, POLICE_ANALYST)


def read(client, tokens, path: str, who: dict[str, Any], params: list[tuple[str, str]]) -> dict[str, Any]:
    answer = client.get(path, params=params, headers=bearer(tokens, who))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def every_figure(client, tokens) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every support and disruption figure, by figure, reader, window and grouping."""
    figures = {}
    for who, window in WINDOWS:
        asked = (who["agency"], *who["roles"], "/".join(window.values()))
        for measure in ("started", "ended"):
            for group_by in SUPPORT_GROUPINGS:
                if measure == "started" and "end_reason" in group_by:
                    continue
                params = [("measure", measure), *(("group_by", g) for g in group_by), *window.items()]
                figures[("support", measure, *asked, *group_by)] = read(
                    client, tokens, "/api/v1/stats/support", who, params
                )
        for group_by in CONTACT_GROUPINGS:
            params = [*(("group_by", g) for g in group_by), *window.items()]
            figures[("contacts", *asked, *group_by)] = read(
                client, tokens, "/api/v1/stats/support/contacts", who, params
            )
        for figure in ("waiting-times", "risk-movement"):
            figures[(figure, *asked)] = read(
                client, tokens, f"/api/v1/stats/support/{figure}", who, list(window.items())
            )
    for who in DISRUPTION_READERS:
        for period in ("2025-26", "2025-26-Q3"):
            figures[("disruption", who["agency"], *who["roles"], period)] = read(
                client, tokens, "/api/v1/stats/disruption", who, [("period", period)]
            )
    return figures


def changed(before: dict[tuple[str, ...], Any], after: dict[tuple[str, ...], Any]) -> list[tuple[str, ...]]:
    assert before.keys() == after.keys()
    return [asked for asked in before if before[asked] != after[asked]]


def dispose_of_jordan_riley_amira_shadz_and_the_station_hotel(
    client, tokens, year: Year, monkeypatch
) -> list[Any]:
    """The disposal job's run, long after, with everyone else's records under a legal hold
    (the holds placed)."""
    kept = [
        *(("child", child_id) for name, child_id in year.children.items() if name not in GOING),
        ("person_of_concern", year.persons["Dee"]),
        ("place_of_concern", year.places["Riverside Lodge"]),
    ]
    holds = []
    for subject_type, subject_id in kept:
        held = place_hold(client, tokens, subject_type=subject_type, subject_id=subject_id)
        assert held.status_code == 201, held.text
        holds.append(held)
    as_of(monkeypatch, LONG_AFTER)
    disposed = run(client, tokens, dry_run=False)
    assert listed(disposed) == {
        *(year.children[name] for name in GOING),
        year.persons["Shadz"],
        year.places["Station Hotel"],
    }
    return holds


def count(client, model: Any) -> int:
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def cell(table: dict[str, Any], **key: str) -> dict[str, Any]:
    [found] = [c for c in table["cells"] if c["key"] == key]
    return dict(found)


def test_every_support_and_disruption_figure_is_the_same_after_the_records_are_disposed_of(
    client, tokens, year, monkeypatch
):
    before = every_figure(client, tokens)
    exact_starts = before[("support", "started", "sheffield-council", "analyst", "2025-26", "kind")]
    assert exact_starts["total"]["count"] == 14
    # Protected figures show counts (perturbed by the records' keys) and a median, not only `c`.
    protected_waits = before[("waiting-times", "sheffield-social-care", "manager", "2025-26")]
    assert protected_waits["all_providers"]["started"]["count"] is not None
    assert protected_waits["all_providers"]["median_days"] is not None
    disruption = before[("disruption", "sheffield-council", "analyst", "2025-26")]
    assert disruption["actions"]["total"]["count"] == len(ACTIONS)
    assert cell(disruption["actions"], kind=UNLISTED_KIND, financial_quarter="2025-26-Q3")["count"] == 1
    protected_actions = before[("disruption", "sheffield-social-care", "manager", "2025-26")]["actions"]
    assert cell(protected_actions, kind="arrest", financial_quarter="2025-26-Q3")["count"] is not None

    dispose_of_jordan_riley_amira_shadz_and_the_station_hotel(client, tokens, year, monkeypatch)

    going = [s for s in SUPPORTS if s.child in GOING]
    assert (count(client, Support), count(client, SupportFact)) == (len(SUPPORTS) - len(going), len(going))
    assert count(client, SupportContactFact) == sum(len(s.contacts) for s in going)
    assert count(client, SupportContact) == sum(len(s.contacts) for s in SUPPORTS if s.child not in GOING)
    going_actions = [a for a in ACTIONS if a.target in ("Shadz", "Station Hotel")]
    assert count(client, DisruptionActionFact) == len(going_actions)
    assert count(client, DisruptionAction) == len(ACTIONS) - len(going_actions)
    assert changed(before, every_figure(client, tokens)) == []


def test_the_support_and_disruption_facts_hold_no_child_person_place_reference_text_or_record_id(
    client, tokens, year, monkeypatch
):
    with client.app.state.database.sessions() as session:
        supports = session.execute(select(Support.id, Support.child_id)).all()
        contacts = session.scalars(select(SupportContact.id)).all()
        actions = session.execute(
            select(DisruptionAction.id, DisruptionAction.reference, DisruptionAction.recorded_by)
        ).all()
    dispose_of_jordan_riley_amira_shadz_and_the_station_hotel(client, tokens, year, monkeypatch)
    with client.app.state.database.sessions() as session:
        kept = " ".join(
            str(row._asdict())
            for fact in (SupportFact, SupportContactFact, DisruptionActionFact)
            for row in session.execute(select(fact.__table__)).all()
        ).lower()
    identifying = [
        *GOING,
        *year.children.values(),
        *year.persons.values(),
        *year.places.values(),
        "Shadz",
        "Station Hotel",
        "Gang injunction applied",
        "SYP-",
        "2011, 3, 14",  # a date of birth as Python writes a date
        *(str(value) for row in supports for value in row),
        *(str(contact) for contact in contacts),
        *(str(value) for row in actions for value in row),
    ]
    assert [value for value in identifying if value.lower() in kept] == []


FACT_TABLES = ("support_facts", "support_contact_facts", "disruption_action_facts")
# Column names that would hold or point to a person, a record or free text.
UNWANTED = (
    *("name", "birth", "nhs", "reference", "address", "postcode", "text", "note", "description"),
    *("child", "person", "place", "target", "_by", "sub", "offered", "support_id", "action_id"),
)
# The short codes a fact keeps as strings: slugs of the agreement and of the vocabulary.
SLUG_COLUMNS = {"provider_service", "provider_agency", "kind"}


def test_the_support_and_disruption_facts_tables_have_no_column_for_a_person_a_record_or_text(client):
    with client.app.state.database.engine.connect() as connection:
        database = inspect(connection)
        columns = {table: database.get_columns(table) for table in FACT_TABLES}
        foreign_keys = {table: database.get_foreign_keys(table) for table in FACT_TABLES}
    for table in FACT_TABLES:
        names = [c["name"] for c in columns[table]]
        assert [n for n in names if any(part in n for part in UNWANTED)] == [], table
        for column in columns[table]:
            assert not isinstance(column["type"], Text), (table, column["name"])
            if isinstance(column["type"], String):
                assert (column["type"].length or 0) <= 63, (table, column["name"])
            # A day is kept only where the figures count by day: a contact's, an action's.
            if isinstance(column["type"], Date):
                assert column["name"] in {"contacted_on", "action_date"}, (table, column["name"])
        # Nothing leads back to a child, a support, a person, a place or an action.
        assert [fk["referred_table"] for fk in foreign_keys[table]] == (
            ["support_facts"] if table == "support_contact_facts" else []
        )
    for model in (SupportFact, SupportContactFact, DisruptionActionFact):
        for column in model.__table__.columns:
            if isinstance(column.type, String) and not isinstance(column.type, Enum):
                assert column.name in SLUG_COLUMNS, (model.__tablename__, column.name)


def test_a_second_disposal_with_facts_already_kept_changes_no_figure_either(
    client, tokens, year, monkeypatch
):
    """Facts of earlier disposals and live records add up the same as the live records did."""
    before = every_figure(client, tokens)
    holds = dispose_of_jordan_riley_amira_shadz_and_the_station_hotel(client, tokens, year, monkeypatch)
    # The inquiry reports, every hold is released and the rest goes too: only facts are left.
    for hold in holds:
        assert release(client, tokens, hold).status_code == 200
    run(client, tokens, dry_run=False)
    assert (count(client, Support), count(client, DisruptionAction)) == (0, 0)
    assert count(client, SupportFact) == len(SUPPORTS)
    assert count(client, DisruptionActionFact) == len(ACTIONS)
    assert changed(before, every_figure(client, tokens)) == []
