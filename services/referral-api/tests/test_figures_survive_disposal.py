"""A scrutiny committee's figures for past periods do not change when a child's records are
disposed of: the disposal keeps de-identified statistical facts (period, age band, the
dimensions the figures group by, the record's key for the cell key method), apart from
anything that identifies the child, and every figure counts the live records and the facts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any, NamedTuple

import pytest
from referral_scenarios import (
    HEALTH,
    POLICE,
    SCHOOL,
    SOCIAL_WORKER,
    VALID_NHS_NUMBERS,
    bearer,
    child_details,
    move,
    screen_and_decide,
    submit,
)
from sqlalchemy import Date, Enum, String, Text, delete, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from referral_api.break_glass.models import BreakGlassGrant
from referral_api.children.models import Child, ChildAgencyLink
from referral_api.chronology.models import ChronologyEntry
from referral_api.concerns.models import ConcernLink, PlaceOfConcern
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralConcern, ReferralEvent
from referral_api.stats import routes as figure_routes
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.models import MissingEpisodeFact, PlaceFact, ReferralFact, ReferralFactConcern
from referral_api.stats.statistical_facts import keep_place_facts, keep_statistical_facts
from referral_api.third_party.models import ThirdPartyInformation

ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
MANAGER = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["manager"]}
OFFICER = {**POLICE, "roles": ["practitioner"]}
CSE, CCE, LINES, ONLINE, MISSING = (
    "sexual_exploitation",
    "criminal_exploitation",
    "county_lines",
    "online_harm",
    "missing",
)

# The two children whose records go, and two who stay; a few more referred once each.
JORDAN = child_details(
    given_name="Jordan",
    family_name="Okafor-Reid",
    date_of_birth="2011-03-14",
    gender="male",
    ethnicity="mixed_white_and_black_caribbean",
    looked_after=True,
    nhs_number=VALID_NHS_NUMBERS[0],
)
RILEY = child_details(
    given_name="Riley",
    family_name="Hargreaves",
    date_of_birth="2008-06-02",
    gender="female",
    ethnicity="white_british",
    nhs_number=VALID_NHS_NUMBERS[1],
)
AMIRA = child_details(
    given_name="Amira",
    family_name="Haddad",
    date_of_birth="2012-01-20",
    gender="female",
    ethnicity="other_arab",
    nhs_number=VALID_NHS_NUMBERS[2],
)
KAI = child_details(
    given_name="Kai",
    family_name="Brennan",
    date_of_birth="2007-11-30",
    gender="another_gender",
    ethnicity="white_irish",
    looked_after=True,
    nhs_number=VALID_NHS_NUMBERS[3],
)
FREE_TEXT_SERVICE = "Community Youth Team (Hillsborough), ask for Dee"


class Referred(NamedTuple):
    """One referral of the autumn, and what became of it."""

    child: dict[str, Any]
    received: datetime
    who: dict[str, Any]
    concerns: tuple[str, ...]
    decision: str | None  # None: still waiting; "screening": screened, not yet decided
    decided_after_hours: float = 3
    signposted_to: str | None = None
    contact_after_hours: float | None = None


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


AUTUMN = [
    Referred(JORDAN, at("2025-09-03"), SCHOOL, (CSE, ONLINE), "allocated", contact_after_hours=20),
    Referred(JORDAN, at("2025-09-20"), POLICE, (CCE,), "allocated", 50),  # made migrated below
    Referred(JORDAN, at("2025-10-15"), POLICE, (LINES,), "signposted", 5, "community-youth-team", 5),
    Referred(JORDAN, at("2025-10-20"), SCHOOL, (CSE,), "signposted", 2, "early-help"),  # free text below
    Referred(JORDAN, at("2025-11-21", 15), HEALTH, (CCE, MISSING), None),  # never decided: late
    Referred(RILEY, at("2025-09-17"), SCHOOL, (CSE,), "allocated", 26, contact_after_hours=2),
    Referred(RILEY, at("2025-11-05"), POLICE, (LINES, MISSING), "no_further_action", 1),
    Referred(AMIRA, at("2025-09-24"), SCHOOL, (ONLINE,), "signposted", 4, "early-help", 30),
    Referred(AMIRA, at("2025-10-08"), HEALTH, (CSE,), "allocated", 72, contact_after_hours=1),
    Referred(AMIRA, at("2025-11-12"), SCHOOL, (MISSING,), "screening"),
    Referred(KAI, at("2025-10-01"), POLICE, (CCE, LINES), "allocated", 6, contact_after_hours=8),
    Referred(KAI, at("2025-10-22"), POLICE, (CCE,), "no_further_action", 30),
    Referred(KAI, at("2025-11-19"), SCHOOL, (LINES,), "allocated", 2, contact_after_hours=48),
    *(
        Referred(
            child_details(given_name=name, family_name="Once", gender=gender, ethnicity=ethnicity),
            at(day),
            who,
            concerns,
            "allocated",
            contact_after_hours=4,
        )
        for name, gender, ethnicity, day, who, concerns in (
            ("Tia", "female", "black_caribbean", "2025-09-10", SCHOOL, (CSE,)),
            ("Ollie", "male", "white_british", "2025-10-29", HEALTH, (CCE,)),
            ("Sam", "not_known", "not_stated", "2025-11-26", POLICE, (LINES,)),
            ("Noor", "female", "asian_pakistani", "2025-11-03", SCHOOL, (CSE, ONLINE)),
        )
    ),
]
# Children reported missing: whose, reported, found (None: still missing), interview outcome, at.
MISSING_EPISODES = [
    (JORDAN, "2025-11-10T07:30:00Z", "2025-11-10T18:00:00Z", "offered", "2025-11-11T10:00:00Z"),
    (JORDAN, "2025-11-13T06:00:00Z", "2025-11-13T08:00:00Z", "completed", "2025-11-16T09:00:00Z"),  # late
    (JORDAN, "2025-11-28T22:00:00Z", None, None, None),
    (RILEY, "2025-10-02T20:00:00Z", "2025-10-03T09:00:00Z", "declined", "2025-10-04T12:00:00Z"),
    (AMIRA, "2025-11-12T09:00:00Z", "2025-11-12T20:00:00Z", "completed", "2025-11-15T20:00:00Z"),
]
# Places of concern, all recorded in October 2025: type, name, ward, a child linked.
PLACES = [
    *(("hotel", f"Station Hotel {i}", "E05010863", None) for i in range(5)),
    ("hotel", "Riverside Lodge", "E05010863", JORDAN),  # goes with Jordan's records
    ("park", "Ponderosa Park", "E05010870", JORDAN),  # the only place in its ward; goes too
    ("online_platform", "A messaging app", None, None),
]
PLACES_RECORDED = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)


def first_contact(client, tokens, referral, contacted_at):
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/first-contact",
        json={"contacted_at": contacted_at.isoformat()},
        headers={**bearer(tokens, SOCIAL_WORKER), "If-Match": f'"{referral["version"]}"'},
    )
    assert response.status_code == 200, response.text


def refer(client, tokens, referral_clock, referred: Referred) -> dict[str, Any]:
    referral_clock.now = referred.received
    referral = submit(
        client, tokens, referred.who, child=referred.child, concern_types=list(referred.concerns)
    )
    referral_clock.now = referred.received + timedelta(hours=referred.decided_after_hours)
    if referred.decision == "screening":
        referral = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    elif referred.decision is not None:
        where = {"signposted_to": referred.signposted_to} if referred.signposted_to else {}
        referral = screen_and_decide(client, tokens, referral, referred.decision, **where)
    if referred.contact_after_hours is not None:
        referral_clock.now = referred.received + timedelta(days=30)
        first_contact(
            client, tokens, referral, referred.received + timedelta(hours=referred.contact_after_hours)
        )
    return referral


def report_missing(client, tokens, child_id, reported, found, outcome, interviewed_at):
    headers = bearer(tokens, OFFICER)
    episode = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": child_id, "reported_missing_at": reported},
        headers=headers,
    )
    assert episode.status_code == 201, episode.text
    if found is None:
        return
    url = f"/api/v1/missing-episodes/{episode.json()['id']}"
    found_answer = client.post(
        f"{url}/found", json={"found_at": found}, headers={**headers, "If-Match": '"1"'}
    )
    assert found_answer.status_code == 200, found_answer.text
    interview = client.post(
        f"{url}/return-home-interview",
        json={"outcome": outcome, "at": interviewed_at},
        headers={**headers, "If-Match": found_answer.headers["etag"]},
    )
    assert interview.status_code == 200, interview.text


def record_place(client, tokens, place_type, name, ward, child_id) -> str:
    body = {"place_type": place_type, "name": name, **({"ward_code": ward} if ward else {})}
    place = client.post("/api/v1/places-of-concern", json=body, headers=bearer(tokens, OFFICER))
    assert place.status_code == 201, place.text
    if child_id is not None:
        linked = client.post(
            f"/api/v1/places-of-concern/{place.json()['id']}/links",
            json={"child_id": child_id},
            headers=bearer(tokens, OFFICER),
        )
        assert linked.status_code in (200, 201), linked.text
    return str(place.json()["id"])


class Autumn(NamedTuple):
    """The ids the test disposes of: Jordan's and Riley's, and the places linked to Jordan."""

    jordan: uuid.UUID
    riley: uuid.UUID
    jordans_places: list[uuid.UUID]


def an_autumn_of_referrals_missing_children_and_places(client, tokens, referral_clock) -> Autumn:
    referrals = [refer(client, tokens, referral_clock, referred) for referred in AUTUMN]
    referral_clock.now = None
    made = list(zip(AUTUMN, referrals, strict=True))
    child_of = {referred.child["given_name"]: referral["child_id"] for referred, referral in made}
    # Each child referred again is the same child (matched by NHS number).
    assert len({referral["child_id"] for referred, referral in made if referred.child is JORDAN}) == 1
    for child, *episode in MISSING_EPISODES:
        report_missing(client, tokens, child_of[child["given_name"]], *episode)
    jordans_places = []
    for place_type, name, ward, child in PLACES:
        place_id = record_place(
            client, tokens, place_type, name, ward, child_of[child["given_name"]] if child else None
        )
        if child is JORDAN:
            jordans_places.append(uuid.UUID(place_id))
    with client.app.state.database.sessions() as session:
        # Loaded from the partnership's spreadsheet; and signposted before the agreement kept a
        # closed list of services (free text, which no figure or fact repeats).
        session.execute(
            update(Referral).where(Referral.id == uuid.UUID(referrals[1]["id"])).values(migrated=True)
        )
        session.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(referrals[3]["id"]))
            .values(signposted_to=FREE_TEXT_SERVICE)
        )
        session.execute(update(PlaceOfConcern).values(created_at=PLACES_RECORDED))
        session.commit()
    return Autumn(uuid.UUID(child_of["Jordan"]), uuid.UUID(child_of["Riley"]), jordans_places)


# --- Every figure, as each caller reads it ---------------------------------------------------

GROUPINGS = [(g.value,) for g in GroupBy] + [(a.value, b.value) for a, b in combinations(GroupBy, 2)]
# (who, window): a financial year and a quarter for both; a window of odd instants for the
# analyst with exact figures, ending just as the last of Jordan's referrals was received.
EXACT_WINDOW = {"from": "2025-09-03T10:00:00Z", "to": "2025-11-21T15:00:00Z"}
REFERRAL_WINDOWS = [
    (ANALYST, {"period": "2025-26"}),
    (ANALYST, EXACT_WINDOW),
    (MANAGER, {"period": "2025-26"}),
    (MANAGER, {"period": "2025-Q4"}),
]
TIMELINESS_WINDOWS = [
    (ANALYST, {"period": "2025-26"}),
    (ANALYST, {"period": "2025-11"}),
    (ANALYST, EXACT_WINDOW),
    (MANAGER, {"period": "2025-26"}),
    (MANAGER, {"period": "2025-11"}),
]
PLACE_WINDOWS = [
    (who, {"period": period}) for who in (ANALYST, MANAGER) for period in ("2025-26", "2025-10", "2025-09")
]


def read(client, tokens, path, who, params) -> dict[str, Any]:
    response = client.get(path, params=params, headers=bearer(tokens, who))
    assert response.status_code == 200, response.text
    return response.json()


def every_figure(client, tokens) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every figure the referral service publishes, by figure, who asked (their role), the
    window ("2025-26", or from/to) and the grouping."""
    figures = {}
    for who, window in REFERRAL_WINDOWS:
        for group_by in GROUPINGS:
            params = [("group_by", g) for g in group_by] + list(window.items())
            asked = ("referrals", *who["roles"], "/".join(window.values()), *group_by)
            figures[asked] = read(client, tokens, "/api/v1/stats/referrals", who, params)
    for who, window in TIMELINESS_WINDOWS:
        asked = ("timeliness", *who["roles"], "/".join(window.values()))
        figures[asked] = read(client, tokens, "/api/v1/stats/timeliness", who, window)
    for who, window in PLACE_WINDOWS:
        asked = ("places", *who["roles"], "/".join(window.values()))
        figures[asked] = read(client, tokens, "/api/v1/stats/places-of-concern", who, window)
    return figures


def changed(before: dict[tuple[str, ...], Any], after: dict[tuple[str, ...], Any]) -> list[tuple[str, ...]]:
    assert before.keys() == after.keys()
    return [asked for asked in before if before[asked] != after[asked]]


# --- The disposal, as the disposal job does it ----------------------------------------------


def delete_childs_records(session: Session, child_id: uuid.UUID) -> None:
    """Delete every row of one child, children's rows before their parents' (for this test;
    the disposal job is the retention module's)."""
    referrals = select(Referral.id).where(Referral.child_id == child_id).scalar_subquery()
    for statement in (
        delete(ReferralConcern).where(ReferralConcern.referral_id.in_(referrals)),
        delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referrals)),
        delete(ConcernLink).where(
            or_(ConcernLink.child_id == child_id, ConcernLink.referral_id.in_(referrals))
        ),
        delete(ThirdPartyInformation).where(ThirdPartyInformation.child_id == child_id),
        delete(BreakGlassGrant).where(BreakGlassGrant.child_id == child_id),
        delete(ChildAgencyLink).where(ChildAgencyLink.child_id == child_id),
        delete(ChronologyEntry).where(ChronologyEntry.child_id == child_id),
        delete(MissingEpisode).where(MissingEpisode.child_id == child_id),
        delete(Referral).where(Referral.child_id == child_id),
        delete(Child).where(Child.id == child_id),
    ):
        session.execute(statement)


def delete_place(session: Session, place_id: uuid.UUID) -> None:
    session.execute(delete(ConcernLink).where(ConcernLink.place_id == place_id))
    session.execute(delete(PlaceOfConcern).where(PlaceOfConcern.id == place_id))


def dispose_of_child(client, child_id: uuid.UUID, place_ids: Sequence[uuid.UUID] = ()) -> None:
    """Keep the facts and delete the records in one transaction, as the disposal job does."""
    with client.app.state.database.sessions() as session:
        keep_statistical_facts(session, child_id)
        for place_id in place_ids:
            keep_place_facts(session, place_id)
        delete_childs_records(session, child_id)
        for place_id in place_ids:
            delete_place(session, place_id)
        session.commit()


def count(client, model) -> int:
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def autumn(client, tokens, referral_clock, monkeypatch) -> Autumn:
    # Exact timeliness counts what was recorded up to the moment asked: hold that moment still.
    asked_at = datetime.now(UTC)
    monkeypatch.setattr(figure_routes, "utc_now", lambda: asked_at)
    return an_autumn_of_referrals_missing_children_and_places(client, tokens, referral_clock)


def test_every_figure_of_every_period_is_the_same_after_two_childrens_records_are_disposed_of(
    client, tokens, autumn
):
    before = every_figure(client, tokens)
    assert before[("referrals", "analyst", "2025-26", "quarter")]["total"]["count"] == len(AUTUMN)
    # Protected figures show counts too (perturbed by the records' keys), not only `c`.
    assert before[("referrals", "manager", "2025-26", "quarter")]["total"]["count"] is not None
    exact_timeliness = before[("timeliness", "analyst", "2025-11")]
    assert exact_timeliness["return_home_interviews_within_72_hours"]["total"]["count"] == 3

    dispose_of_child(client, autumn.jordan, autumn.jordans_places)
    assert count(client, Referral) == len(AUTUMN) - 5
    assert count(client, ReferralFact) == 5
    assert count(client, MissingEpisodeFact) == 3
    assert count(client, PlaceFact) == 2
    assert changed(before, every_figure(client, tokens)) == []

    # A second child's disposal, with the first one's facts already kept.
    dispose_of_child(client, autumn.riley)
    assert count(client, ReferralFact) == 7
    assert changed(before, every_figure(client, tokens)) == []


def test_a_fact_holds_no_name_date_of_birth_identifier_free_text_or_record_id(client, tokens, autumn):
    with client.app.state.database.sessions() as session:
        jordans = session.execute(
            select(Referral.id, Referral.summary, Referral.referrer_name, Referral.submitted_by).where(
                Referral.child_id == autumn.jordan
            )
        ).all()
        episodes = session.scalars(
            select(MissingEpisode.id).where(MissingEpisode.child_id == autumn.jordan)
        ).all()
    dispose_of_child(client, autumn.jordan, autumn.jordans_places)
    with client.app.state.database.sessions() as session:
        kept = [
            str(row._asdict())
            for fact in (ReferralFact, ReferralFactConcern, MissingEpisodeFact, PlaceFact)
            for row in session.execute(select(fact.__table__)).all()
        ]
    everything_kept = " ".join(kept).lower()
    identifying = [
        JORDAN["given_name"],
        JORDAN["family_name"],
        JORDAN["date_of_birth"],
        "2011, 3, 14",  # the date of birth as Python writes a date
        JORDAN["nhs_number"],
        JORDAN["school"],
        str(autumn.jordan),
        FREE_TEXT_SERVICE,
        "Hillsborough",
        "Riverside Lodge",
        "Ponderosa Park",
        *(str(place) for place in autumn.jordans_places),
        *(str(episode) for episode in episodes),
        *(value for referral in jordans for value in map(str, referral)),
    ]
    assert [value for value in identifying if value.lower() in everything_kept] == []
    # What the figures need is there: the free text counts as `other`, slugs as themselves.
    with client.app.state.database.sessions() as session:
        assert sorted(session.scalars(select(ReferralFact.signposted_to)), key=str) == sorted(
            [None, None, "community-youth-team", "other", None], key=str
        )


FACT_TABLES = ("referral_facts", "referral_fact_concerns", "missing_episode_facts", "place_facts")
# Column names that would hold or point to a person or free text.
IDENTIFYING_NAMES = ("name", "birth", "nhs", "reference", "school", "address", "street", "postcode")
FREE_TEXT_NAMES = ("summary", "notes", "description", "reason", "location", "detail", "comment")
PEOPLE_AND_RECORDS = (
    "referrer",
    "worker",
    "team",
    "_by",
    "sub",
    "agency",
    "child",
    "referral_id",
    "episode",
    "place_id",
    "person",
)


def test_the_facts_tables_have_no_column_for_a_name_a_date_of_birth_an_identifier_or_free_text(client):
    with client.app.state.database.engine.connect() as connection:
        database = inspect(connection)
        tables = set(database.get_table_names())
        columns = {table: database.get_columns(table) for table in FACT_TABLES}
        foreign_keys = {table: database.get_foreign_keys(table) for table in FACT_TABLES}
    assert set(FACT_TABLES) <= tables
    # Everything recorded about a child but the three values the figures group by (and the
    # bookkeeping every table has).
    child_columns = {c.name for c in Child.__table__.columns} - {
        "gender",
        "ethnicity",
        "looked_after",
        "id",
        "created_at",
        "updated_at",
        "row_version",
    }
    for table in FACT_TABLES:
        names = [c["name"] for c in columns[table]]
        assert [n for n in names if n in child_columns] == [], table
        unwanted = (*IDENTIFYING_NAMES, *FREE_TEXT_NAMES, *PEOPLE_AND_RECORDS)
        assert [n for n in names if any(part in n for part in unwanted) and n != "agency_type"] == [], table
        # No free text: no unbounded text, no date (of birth), strings short codes at most.
        for column in columns[table]:
            assert not isinstance(column["type"], Text | Date), (table, column["name"])
            if isinstance(column["type"], String):
                assert (column["type"].length or 0) <= 63, (table, column["name"])
        # Nothing leads back to a child, a referral, an episode or a place.
        assert [fk["referred_table"] for fk in foreign_keys[table]] == (
            ["referral_facts"] if table == "referral_fact_concerns" else []
        )
    # And the models say the same: every text a closed vocabulary or a short code.
    for model in (ReferralFact, ReferralFactConcern, MissingEpisodeFact, PlaceFact):
        for column in model.__table__.columns:
            if isinstance(column.type, String) and not isinstance(column.type, Enum):
                assert column.name in {
                    "received_quarter",
                    "received_month",
                    "received_financial_quarter",
                    "age_band_at_referral",
                    "signposted_to",
                    "ward_code",
                }, (model.__tablename__, column.name)
