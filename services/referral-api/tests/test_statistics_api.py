"""A scrutiny committee's figures: exact for analysts, never a small number for anyone else."""

from __future__ import annotations

import random
import statistics
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
from referral_scenarios import (
    HUB_MANAGER,
    POLICE,
    SOCIAL_WORKER,
    bearer,
    child_details,
    move,
    screen_and_decide,
    submit,
)
from sqlalchemy import create_engine, insert

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import age_band, age_on, reporting_day, reporting_periods
from safeguarding_kit.db import normalise_url

ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
MANAGER = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["manager"]}
YEAR = (datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
SOURCES = ["education", "police", "social_care", "health", "voluntary"]


def band(age: int) -> str:
    for label, low, high in (("10-13", 10, 13), ("14-16", 14, 16), ("17-19", 17, 19), ("20-21", 20, 21)):
        if low <= age <= high:
            return label
    return "other"


def seed_year(database_url: str, count: int = 400) -> Counter:
    """Referrals spread over a year; returns (quarter, age band, source) counts worked out here."""
    # A second generator varies the child and the outcome, so the first one's draws stay as they were.
    rng, more = random.Random(8), random.Random(9)
    children, referrals, concerns, truth = [], [], [], Counter()
    for _ in range(count):
        received = YEAR[0] + timedelta(minutes=rng.randrange(int((YEAR[1] - YEAR[0]).total_seconds() // 60)))
        age = rng.choice([11, 12, 13, 14, 15, 15, 16, 16, 17, 18, 20, 9])
        birth = (
            date(received.year - age, 1, 1) if rng.random() < 0.5 else date(received.year - age - 1, 12, 31)
        )
        birth_age = received.year - birth.year - ((received.month, received.day) < (birth.month, birth.day))
        source = rng.choice(SOURCES) if rng.random() < 0.9 else "youth_service"
        child_id, referral_id = uuid.uuid4(), uuid.uuid4()
        outcome = more.choice(["allocated", "allocated", "signposted", "no_further_action", "open"])
        decided = received + timedelta(hours=more.choice([2, 20, 50])) if outcome != "open" else None
        children.append(
            {
                "id": child_id,
                "given_name": "Test",
                "family_name": "Child",
                "name_key": "child|test",
                "date_of_birth": birth,
                "gender": more.choice(["female", "female", "male", "another_gender"]),
                "ethnicity": more.choice(["white_british", "white_british", "black_caribbean", "not_stated"]),
                "created_by_agency": "seed",
                "created_at": received,
                "updated_at": received,
                "version": 1,
                "looked_after": more.random() < 0.2,
                "sen_or_disability": False,
            }
        )
        referrals.append(
            {
                "id": referral_id,
                "child_id": child_id,
                "agency": f"seed-{source}",
                "agency_type": source,
                "submitted_by": "seed",
                "request_hash": "x",
                "referrer_name": "R",
                "referrer_role": "R",
                "summary": "seeded",
                "lawful_basis": "consent",
                "urgency": "routine",
                "status": "received" if outcome == "open" else outcome,
                "received_at": received,
                "decision_due_at": received + timedelta(days=1),
                "decided_at": decided,
                "allocated_team": "Exploitation Team North" if outcome == "allocated" else None,
                "signposted_to": "Community Youth Team" if outcome == "signposted" else None,
                "received_quarter": reporting_periods(received)[0],
                "received_month": reporting_periods(received)[1],
                "age_band_at_referral": age_band(age_on(reporting_day(received), birth)),
                "version": 1,
            }
        )
        concerns.append({"referral_id": referral_id, "concern_type": "criminal_exploitation"})
        if more.random() < 0.3:
            concerns.append(
                {"referral_id": referral_id, "concern_type": more.choice(["county_lines", "missing"])}
            )
        truth[(f"{received.year}-Q{(received.month + 2) // 3}", band(birth_age), source)] += 1
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(insert(Child), children)
        conn.execute(insert(Referral), referrals)
        conn.execute(insert(ReferralConcern), concerns)
    engine.dispose()
    return truth


def figures(client, tokens, who, *group_by, **params):
    query = [("group_by", g) for g in group_by] + [("from", YEAR[0].isoformat()), ("to", YEAR[1].isoformat())]
    query += list(params.items())
    return client.get("/api/v1/stats/referrals", params=query, headers=bearer(tokens, who))


def counts_shown(body):
    """Every count a caller sees in a figures table: cells, totals and the grand total."""
    return [c["count"] for part in ("cells", "row_totals", "column_totals") for c in body[part]] + [
        body["total"]
    ]


def small_counts_shown(body):
    return [n for n in counts_shown(body) if isinstance(n, int) and 1 <= n <= 5]


def counts_revealed_by_subtraction(body):
    """Lines of the table (a row, a column, the totals) whose total is shown with exactly one
    member hidden: that member is the total minus the others, so suppressing it hid nothing."""
    dims, cells = body["dimensions"], body["cells"]
    lines = []
    if len(dims) == 1:
        lines.append((cells, body["total"]))
    else:
        first, second = dims
        for total in body["row_totals"]:
            lines.append(([c for c in cells if c["key"][first] == total["key"][first]], total["count"]))
        for total in body["column_totals"]:
            lines.append(([c for c in cells if c["key"][second] == total["key"][second]], total["count"]))
        lines.append((body["row_totals"], body["total"]))
        lines.append((body["column_totals"], body["total"]))
    return [
        [m["key"] for m in members]
        for members, total in lines
        if total != "c" and sum(m["count"] == "c" for m in members) == 1
    ]


def test_an_analyst_gets_exact_figures_that_match_an_independent_count(client, tokens, database_url):
    truth = seed_year(database_url)
    response = figures(client, tokens, ANALYST, "quarter", "age_band")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = Counter()
    for (quarter, band_at_referral, _), n in truth.items():
        expected[(quarter, band_at_referral)] += n
    got = {(c["key"]["quarter"], c["key"]["age_band"]): c["count"] for c in body["cells"] if c["count"]}
    assert got == dict(expected)
    assert body["total"] == sum(truth.values())
    by_source = figures(client, tokens, ANALYST, "source_agency_type").json()
    sources = Counter()
    for (_, _, source), n in truth.items():
        sources[source] += n
    assert {c["key"]["source_agency_type"]: c["count"] for c in by_source["cells"]} == dict(sources)


def test_a_manager_never_sees_a_count_from_1_to_5(client, tokens, database_url):
    seed_year(database_url)
    for dims in (("quarter", "age_band"), ("source_agency_type", "age_band"), ("quarter",), ("age_band",)):
        body = figures(client, tokens, MANAGER, *dims).json()
        assert small_counts_shown(body) == [], dims
        assert body["exact"] is False
    suppressed = figures(client, tokens, MANAGER, "quarter", "age_band").json()
    assert {c["suppressed"] for c in suppressed["cells"]} >= {"primary", "secondary"}


@pytest.mark.parametrize(
    "analyst",
    [
        # The role alone once gave exact figures at any agency; the capacity is the agreement's.
        {"agency": "sheffield-health", "agency_type": "health", "roles": ["analyst"]},
        {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["analyst"]},
    ],
    ids=["hub health team analyst", "voluntary-sector analyst"],
)
def test_an_analyst_of_an_agency_without_exact_figures_never_sees_a_count_from_1_to_5(
    client, tokens, database_url, analyst
):
    seed_year(database_url)
    for dims in (("quarter", "age_band"), ("source_agency_type",)):
        body = figures(client, tokens, analyst, *dims).json()
        assert body["exact"] is False
        assert small_counts_shown(body) == [], dims
    assert figures(client, tokens, ANALYST, "quarter").json()["exact"] is True


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"group_by": "shoe_size"}, "group_by.0"),
        ({"group_by": "quarter", "from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        ({"group_by": "quarter", "from": "2010-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, tokens, params, parameter):
    response = client.get("/api/v1/stats/referrals", params=params, headers=bearer(tokens, ANALYST))
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter


def test_figures_are_cacheable_with_an_etag(client, tokens, database_url):
    seed_year(database_url, count=30)
    first = figures(client, tokens, MANAGER, "quarter")
    assert first.headers["cache-control"] == "private, max-age=60"
    again = client.get(
        "/api/v1/stats/referrals",
        params=[("group_by", "quarter"), ("from", YEAR[0].isoformat()), ("to", YEAR[1].isoformat())],
        headers={**bearer(tokens, MANAGER), "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304


def test_timeliness_gives_medians_and_shares_and_hides_small_numbers(client, tokens):
    school = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
    worker = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
    body = {
        "child": {"given_name": "Tim", "family_name": "Ely", "date_of_birth": "2011-01-01", "gender": "male"},
        "referrer": {"name": "T", "role": "DSL"},
        "concern_types": ["criminal_exploitation"],
        "summary": "Seen.",
        "lawful_basis": {"basis": "consent"},
    }
    made = [
        client.post("/api/v1/referrals", json=body, headers=bearer(tokens, school)).json() for _ in range(7)
    ]
    for referral in made:
        client.post(
            f"/api/v1/referrals/{referral['id']}/first-contact",
            json={"contacted_at": referral["received_at"]},
            headers={**bearer(tokens, worker), "If-Match": '"1"'},
        )
    exact = client.get("/api/v1/stats/timeliness", headers=bearer(tokens, ANALYST)).json()
    assert exact["first_contact"]["referrals_with_contact"] == 7
    assert exact["first_contact"]["median_hours"] == 0.0
    assert exact["decisions_within_one_working_day"] == {"on_time": 0, "total": 0, "share": None}
    shown = client.get("/api/v1/stats/timeliness", headers=bearer(tokens, MANAGER)).json()
    assert shown["first_contact"]["referrals_with_contact"] == 7  # 7 is above the threshold


def test_places_of_concern_are_counted_by_ward_with_small_numbers_hidden(client, tokens):
    officer = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
    for i in range(8):
        client.post(
            "/api/v1/places-of-concern",
            json={"place_type": "hotel", "name": f"Hotel {i}", "ward_code": "E05010863"},
            headers=bearer(tokens, officer),
        )
    client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "park", "name": "Park", "ward_code": "E05010870"},
        headers=bearer(tokens, officer),
    )
    exact = client.get("/api/v1/stats/places-of-concern", headers=bearer(tokens, ANALYST)).json()
    assert {
        (c["key"]["ward_code"], c["key"]["place_type"]): c["count"] for c in exact["cells"] if c["count"]
    } == {("E05010863", "hotel"): 8, ("E05010870", "park"): 1}
    shown = client.get("/api/v1/stats/places-of-concern", headers=bearer(tokens, MANAGER)).json()
    assert small_counts_shown(shown) == []


# --- Figures from referrals as partners send them -------------------------------------------

POLICE_OFFICER = {**POLICE, "roles": ["practitioner"]}
JULY_2025_TO_MARCH_2026 = ("2025-07-01T00:00:00Z", "2026-04-01T00:00:00Z")


def analyst_figures(client, tokens, *group_by, period=JULY_2025_TO_MARCH_2026, who=ANALYST):
    query = [("group_by", g) for g in group_by] + [("from", period[0]), ("to", period[1])]
    response = client.get("/api/v1/stats/referrals", params=query, headers=bearer(tokens, who))
    assert response.status_code == 200, response.text
    return response.json()


def counted(body):
    """Cell key (a dimension's value, or a pair of them) -> count, leaving out empty cells."""

    def key(cell):
        values = tuple(cell["key"][d] for d in body["dimensions"])
        return values if len(values) > 1 else values[0]

    return {key(c): c["count"] for c in body["cells"] if c["count"]}


# Children referred on a known day, born on either side of each band's birthday. The band is
# written out by hand here, as a person reading the date of birth would work it out.
AGE_BAND_REFERRALS = [  # received at (UTC, midday), quarter, date of birth, age band at referral
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2015-08-16", "other"),  # 9: ten tomorrow
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2015-08-15", "10-13"),  # ten today
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2011-08-16", "10-13"),  # 13: fourteen tomorrow
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2011-08-15", "14-16"),  # fourteen today
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2008-08-16", "14-16"),  # 16
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2008-08-15", "17-19"),  # seventeen today
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2005-08-16", "17-19"),  # 19
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2005-08-15", "20-21"),  # twenty today
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2003-08-16", "20-21"),  # 21
    (datetime(2025, 8, 15, 12, 0), "2025-Q3", "2003-08-15", "other"),  # twenty-two today: beyond the bands
    (datetime(2025, 9, 30, 12, 0), "2025-Q3", "2012-05-01", "10-13"),  # the last day of the quarter
    (datetime(2025, 10, 1, 12, 0), "2025-Q4", "2012-05-01", "10-13"),  # the first day of the next
    (datetime(2025, 11, 14, 12, 0), "2025-Q4", "2010-01-20", "14-16"),
    (datetime(2025, 11, 14, 12, 0), "2025-Q4", "2007-03-02", "17-19"),
    (datetime(2026, 2, 28, 12, 0), "2026-Q1", "2012-02-29", "10-13"),  # leap-day birthday: 14 on 1 March
    (datetime(2026, 3, 31, 12, 0), "2026-Q1", "2009-04-01", "14-16"),  # 16, seventeen tomorrow
]


def test_figures_by_quarter_and_age_band_count_the_referrals_partners_posted(client, tokens, referral_clock):
    for i, (received, _, born, _) in enumerate(AGE_BAND_REFERRALS):
        referral_clock.now = received.replace(tzinfo=UTC)
        submit(client, tokens, child=child_details(given_name=f"Child{i}", date_of_birth=born))
    referral_clock.now = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)  # before the period asked for
    submit(client, tokens, child=child_details(given_name="Earlier", date_of_birth="2011-01-01"))
    referral_clock.now = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # the period's end is not in it
    submit(client, tokens, child=child_details(given_name="Later", date_of_birth="2011-01-01"))

    body = analyst_figures(client, tokens, "quarter", "age_band")
    expected = Counter((quarter, band) for _, quarter, _, band in AGE_BAND_REFERRALS)
    assert counted(body) == dict(expected)
    assert body["total"] == len(AGE_BAND_REFERRALS)
    by_quarter = Counter(quarter for _, quarter, _, _ in AGE_BAND_REFERRALS)
    assert {t["key"]["quarter"]: t["count"] for t in body["row_totals"]} == dict(by_quarter)
    by_band = Counter(band for _, _, _, band in AGE_BAND_REFERRALS)
    assert {t["key"]["age_band"]: t["count"] for t in body["column_totals"]} == dict(by_band)


def test_a_childs_age_band_is_the_one_at_each_referral(client, tokens, referral_clock):
    known = child_details(date_of_birth="2011-08-15", nhs_number="9434765919")
    referral_clock.now = datetime(2025, 8, 14, 12, 0, tzinfo=UTC)  # the day before their 14th birthday
    first = submit(client, tokens, child=known)
    referral_clock.now = datetime(2025, 8, 15, 12, 0, tzinfo=UTC)  # referred again on it
    again = submit(client, tokens, child=known)
    assert again["child_id"] == first["child_id"]
    assert counted(analyst_figures(client, tokens, "age_band")) == {"10-13": 1, "14-16": 1}


class Referred(NamedTuple):
    """One referral of the hub's autumn, and what became of it."""

    day: str  # received at 10:00 UTC that day
    gender: str
    ethnicity: str
    looked_after: bool
    concerns: tuple[str, ...]
    decision: str | None  # None: still waiting; "screening": screened, not yet decided
    closed: bool = False  # closed after the decision, which closing does not change


# Every expectation below is counted from this table.
CSE, CCE, LINES, NFA = "sexual_exploitation", "criminal_exploitation", "county_lines", "no_further_action"
AUTUMN = [
    Referred("2025-09-03", "female", "white_british", False, (CSE,), "allocated"),
    Referred("2025-09-17", "female", "white_british", True, (CSE, "online_harm"), "allocated", True),
    Referred("2025-09-24", "male", "black_caribbean", False, (LINES,), "signposted"),
    Referred("2025-10-01", "male", "black_caribbean", True, (CCE,), NFA, True),
    Referred("2025-10-08", "male", "white_irish", False, (LINES,), "allocated"),
    Referred("2025-10-15", "another_gender", "white_british", False, (CSE,), "signposted", True),
    Referred("2025-10-22", "female", "asian_pakistani", True, (CCE,), NFA),
    Referred("2025-11-05", "male", "white_british", False, (CCE,), "screening"),
    Referred("2025-11-12", "female", "not_stated", False, ("missing",), None),
    Referred("2025-11-19", "male", "white_british", True, (LINES,), None),
]
OUTCOME_OF = {
    "allocated": "allocated",
    "signposted": "signposted",
    NFA: NFA,
    "screening": "open",
    None: "open",
}
GROUPINGS = {  # dimension -> what a referral of AUTUMN counts under (a list: once under each)
    "month": lambda r: [r.day[:7]],
    "gender": lambda r: [r.gender],
    "ethnicity": lambda r: [r.ethnicity],
    "looked_after": lambda r: ["looked_after" if r.looked_after else "not_looked_after"],
    "concern_type": lambda r: list(r.concerns),
    "outcome": lambda r: [OUTCOME_OF[r.decision]],
}


def an_autumn_of_referrals(client, tokens, referral_clock):
    for i, referred in enumerate(AUTUMN):
        referral_clock.now = datetime.fromisoformat(referred.day).replace(hour=10, tzinfo=UTC)
        child = child_details(
            given_name=f"Child{i}",
            gender=referred.gender,
            ethnicity=referred.ethnicity,
            looked_after=referred.looked_after,
        )
        referral = submit(client, tokens, child=child, concern_types=list(referred.concerns))
        referral_clock.now += timedelta(hours=3)
        if referred.decision == "screening":
            move(client, tokens, referral, SOCIAL_WORKER, to="screening")
        elif referred.decision is not None:
            referral = screen_and_decide(client, tokens, referral, referred.decision)
        if referred.closed:
            move(client, tokens, referral, HUB_MANAGER, to="closed", reason="Plan complete")
    referral_clock.now = None


def test_figures_by_each_dimension_match_an_independent_count(client, tokens, referral_clock, subtests):
    an_autumn_of_referrals(client, tokens, referral_clock)
    for dimension, counts_under in GROUPINGS.items():
        with subtests.test(dimension=dimension):
            body = analyst_figures(client, tokens, dimension)
            expected = Counter(value for referral in AUTUMN for value in counts_under(referral))
            assert counted(body) == dict(expected)
            assert {t["key"][dimension]: t["count"] for t in body["row_totals"]} == dict(expected)
            assert body["total"] == sum(expected.values())
            assert body["exact"] is True


def test_a_referral_with_two_concern_types_counts_under_each_and_the_note_says_so(
    client, tokens, referral_clock
):
    referral_clock.now = datetime(2025, 9, 17, 10, 0, tzinfo=UTC)
    submit(client, tokens, concern_types=[CSE, "online_harm"])
    submit(client, tokens, concern_types=[CSE])
    by_concern = analyst_figures(client, tokens, "concern_type")
    assert counted(by_concern) == {CSE: 2, "online_harm": 1}
    # So the total is of concerns raised, one more than the referrals, as the note tells the reader;
    # grouped by anything else, each referral counts once.
    assert by_concern["total"] == 3
    assert "Referrals with several concern types count once per type" in by_concern["note"]
    assert analyst_figures(client, tokens, "outcome")["total"] == 2


def test_a_manager_never_sees_a_count_from_1_to_5_in_any_grouping(client, tokens, database_url, subtests):
    seed_year(database_url)
    period = (YEAR[0].isoformat(), YEAR[1].isoformat())
    small_ones_hidden = 0
    for dimension in GROUPINGS:
        for dims in ((dimension,), ("quarter", dimension), (dimension, "age_band")):
            with subtests.test(group_by=dims):
                exact = analyst_figures(client, tokens, *dims, period=period)
                body = analyst_figures(client, tokens, *dims, period=period, who=MANAGER)
                assert small_counts_shown(body) == []
                assert counts_revealed_by_subtraction(body) == []
                assert body["exact"] is False
                hidden = [c["key"] for c in body["cells"] if c["count"] == "c"]
                small = [c["key"] for c in exact["cells"] if 1 <= c["count"] <= 5]
                assert all(key in hidden for key in small)
                small_ones_hidden += len(small)
    assert small_ones_hidden > 0  # there were small counts to hide


# --- Timeliness ----------------------------------------------------------------------------

FRIDAY_AFTERNOON = datetime(2025, 11, 21, 15, 0, tzinfo=UTC)  # 15:00 in London too (GMT)
DECISION_DUE = datetime(2025, 11, 24, 15, 0, tzinfo=UTC)  # one working day later: Monday 15:00
# For each referral received that Friday afternoon: when the hub decided, and how many hours
# after receipt a worker first spoke with the child.
DECIDED_AND_CONTACTED = [
    (datetime(2025, 11, 21, 16, 0, tzinfo=UTC), 0.5),
    (datetime(2025, 11, 22, 10, 0, tzinfo=UTC), 1),  # a Saturday
    (datetime(2025, 11, 24, 9, 0, tzinfo=UTC), 2),
    (datetime(2025, 11, 24, 14, 59, tzinfo=UTC), 3),
    (datetime(2025, 11, 24, 15, 0, tzinfo=UTC), 4),  # exactly when due: still on time
    (datetime(2025, 11, 24, 15, 1, tzinfo=UTC), 6),
    (datetime(2025, 11, 25, 9, 0, tzinfo=UTC), 8),
    (datetime(2025, 11, 21, 15, 30, tzinfo=UTC), 12),
    (datetime(2025, 11, 26, 11, 0, tzinfo=UTC), 24),
    (datetime(2025, 11, 23, 18, 0, tzinfo=UTC), 48),  # a Sunday
    (datetime(2025, 11, 28, 17, 0, tzinfo=UTC), 100),
]
# Children found in November, and when their return-home interview was offered or held.
FOUND_AND_INTERVIEWED = [  # reported missing, found, interview outcome, interview at
    ("2025-11-10T07:30:00Z", "2025-11-10T18:00:00Z", "offered", "2025-11-11T10:00:00Z"),  # 16 hours
    ("2025-11-12T09:00:00Z", "2025-11-12T20:00:00Z", "completed", "2025-11-15T20:00:00Z"),  # 72 hours exactly
    ("2025-11-13T06:00:00Z", "2025-11-13T08:00:00Z", "offered", "2025-11-16T09:00:00Z"),  # 73 hours: late
]
NOVEMBER = ("2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z")


def timeliness(client, tokens, who):
    response = client.get(
        "/api/v1/stats/timeliness",
        params={"from": NOVEMBER[0], "to": NOVEMBER[1]},
        headers=bearer(tokens, who),
    )
    assert response.status_code == 200, response.text
    return response.json()


def first_contact(client, tokens, referral, at):
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/first-contact",
        json={"contacted_at": at.isoformat()},
        headers={**bearer(tokens, SOCIAL_WORKER), "If-Match": f'"{referral["version"]}"'},
    )
    assert response.status_code == 200, response.text


def a_november_of_referrals_and_missing_children(client, tokens, referral_clock):
    for decided_at, contact_hours in DECIDED_AND_CONTACTED:
        referral_clock.now = FRIDAY_AFTERNOON
        referral = submit(client, tokens)
        referral_clock.now = decided_at
        referral = screen_and_decide(client, tokens, referral, "allocated")
        referral_clock.now = FRIDAY_AFTERNOON + timedelta(days=10)
        first_contact(client, tokens, referral, FRIDAY_AFTERNOON + timedelta(hours=contact_hours))
    # Received that Friday too and never decided: late, as every such referral is by now.
    referral_clock.now = FRIDAY_AFTERNOON
    submit(client, tokens)
    # Received in October: outside the period, however late its decision and contact.
    referral_clock.now = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)
    october = submit(client, tokens)
    referral_clock.now = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
    october = screen_and_decide(client, tokens, october, "no_further_action")
    first_contact(client, tokens, october, referral_clock.now)
    referral_clock.now = None

    child = client.post(
        "/api/v1/children", json=child_details(), headers=bearer(tokens, SOCIAL_WORKER)
    ).json()
    found_in_october = ("2025-10-30T07:30:00Z", "2025-10-30T09:00:00Z", "offered", "2025-10-30T10:00:00Z")
    for reported, found, outcome, at in [*FOUND_AND_INTERVIEWED, found_in_october]:
        headers = bearer(tokens, POLICE_OFFICER)
        episode = client.post(
            "/api/v1/missing-episodes",
            json={"child_id": child["id"], "reported_missing_at": reported},
            headers=headers,
        )
        assert episode.status_code == 201, episode.text
        url = f"/api/v1/missing-episodes/{episode.json()['id']}"
        found_answer = client.post(
            f"{url}/found", json={"found_at": found}, headers={**headers, "If-Match": '"1"'}
        )
        assert found_answer.status_code == 200, found_answer.text
        interview = client.post(
            f"{url}/return-home-interview",
            json={"outcome": outcome, "at": at},
            headers={**headers, "If-Match": found_answer.headers["etag"]},
        )
        assert interview.status_code == 200, interview.text


def test_timeliness_of_decisions_first_contact_and_return_home_interviews_with_small_counts_hidden(
    client, tokens, referral_clock
):
    a_november_of_referrals_and_missing_children(client, tokens, referral_clock)
    figures = timeliness(client, tokens, ANALYST)

    on_time = sum(decided <= DECISION_DUE for decided, _ in DECIDED_AND_CONTACTED)
    assert on_time == 7
    due = len(DECIDED_AND_CONTACTED) + 1  # the one never decided is late, not left out
    assert figures["decisions_within_one_working_day"] == {
        "on_time": on_time,
        "total": due,
        "share": round(on_time / due, 3),  # 7 of 12: 0.583
    }

    hours = [h for _, h in DECIDED_AND_CONTACTED]
    # With 11 intervals the median and the 90th percentile fall on an interval itself
    # (the 6th and the 10th), whichever percentile method a reader uses.
    assert figures["first_contact"] == {
        "referrals_with_contact": len(hours),
        "median_hours": statistics.median(hours),
        "p90_hours": statistics.quantiles(hours, n=10, method="inclusive")[8],
    }
    assert (figures["first_contact"]["median_hours"], figures["first_contact"]["p90_hours"]) == (6.0, 48.0)

    within_72_hours = sum(
        datetime.fromisoformat(at) - datetime.fromisoformat(found) <= timedelta(hours=72)
        for _, found, _, at in FOUND_AND_INTERVIEWED
    )
    assert figures["return_home_interviews_within_72_hours"] == {
        "on_time": within_72_hours,
        "total": len(FOUND_AND_INTERVIEWED),
        "share": round(within_72_hours / len(FOUND_AND_INTERVIEWED), 3),
    }
    assert figures["return_home_interviews_within_72_hours"]["share"] == 0.667  # 2 of 3

    # A manager sees the same figures with every count from 1 to 5 hidden.
    shown = timeliness(client, tokens, MANAGER)
    assert shown["exact"] is False
    # 12 decisions due are shown but not the 7 on time, from which the 5 late would follow.
    assert shown["decisions_within_one_working_day"] == {"on_time": "c", "total": 12, "share": None}
    assert shown["first_contact"] == figures["first_contact"]  # 11 referrals: nothing to hide
    assert shown["return_home_interviews_within_72_hours"] == {"on_time": "c", "total": "c", "share": None}


def test_a_referral_just_after_midnight_in_england_counts_in_the_new_quarter_and_month():
    # 00:30 on 1 October 2026 in London is 23:30 on 30 September in UTC (summer time).
    just_after_midnight = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    assert reporting_periods(just_after_midnight) == ("2026-Q4", "2026-10")
    # A child born on 1 October 2012 turns 14 that day: in the 14-16 band, not 10-13.
    assert age_band(age_on(reporting_day(just_after_midnight), date(2012, 10, 1))) == "14-16"
    # In winter, England's date is UTC's.
    assert reporting_periods(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == ("2026-Q4", "2026-12")
