"""A scrutiny committee's figures: exact for `exact_figures` analysts; for everyone else no
count from 1 to 5 and every count within the cell key method's noise of the truth."""

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
from sqlalchemy import create_engine, insert, update

from referral_api.children.models import Child
from referral_api.concerns.models import PlaceOfConcern, PlaceType
from referral_api.referrals.models import ConcernType, Referral, ReferralConcern
from referral_api.stats.dimensions import age_band, age_on, reporting_day, reporting_periods
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import normalise_url
from safeguarding_kit.disclosure import MAX_NOISE
from safeguarding_kit.periods import england_day, england_midnight, financial_quarter_of, financial_year_of

ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
MANAGER = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["manager"]}
# The financial year 2025-26: from midnight in England on 1 April 2025 (23:00 UTC the day before).
FINANCIAL_YEAR = "2025-26"
YEAR = (england_midnight(date(2025, 4, 1)), england_midnight(date(2026, 4, 1)))
SOURCES = ["education", "police", "social_care", "health", "voluntary"]
AGE_BANDS = ["10-13", "14-16", "17-19", "20-21", "other"]


def band(age: int) -> str:
    for label, low, high in (("10-13", 10, 13), ("14-16", 14, 16), ("17-19", 17, 19), ("20-21", 20, 21)):
        if low <= age <= high:
            return label
    return "other"


class Seeded(NamedTuple):
    quarter: str
    financial_quarter: str
    age_band: str
    source: str


def seed_year(database_url: str, count: int = 400) -> Counter[Seeded]:
    """Referrals spread over the financial year 2025-26; their counts worked out here."""
    # A second generator varies the child and the outcome, so the first one's draws stay as they were.
    rng, more = random.Random(8), random.Random(9)
    children, referrals, concerns, truth = [], [], [], Counter()
    for _ in range(count):
        received = YEAR[0] + timedelta(minutes=rng.randrange(int((YEAR[1] - YEAR[0]).total_seconds() // 60)))
        age = rng.choice([11, 12, 13, 14, 15, 15, 16, 16, 17, 18, 20, 9])
        birth = (
            date(received.year - age, 1, 1) if rng.random() < 0.5 else date(received.year - age - 1, 12, 31)
        )
        day = england_day(received)
        birth_age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
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
                "signposted_to": "community-youth-team" if outcome == "signposted" else None,
                "received_quarter": reporting_periods(received)[0],
                "received_month": reporting_periods(received)[1],
                "received_financial_quarter": financial_quarter_of(reporting_day(received)),
                "age_band_at_referral": age_band(age_on(reporting_day(received), birth)),
                "version": 1,
            }
        )
        concerns.append({"referral_id": referral_id, "concern_type": "criminal_exploitation"})
        if more.random() < 0.3:
            concerns.append(
                {"referral_id": referral_id, "concern_type": more.choice(["county_lines", "missing"])}
            )
        # Worked out by hand from the date in England: quarters of the calendar and of the year
        # that starts in April.
        calendar_quarter = f"{day.year}-Q{(day.month + 2) // 3}"
        first_april = day.year if day.month >= 4 else day.year - 1
        financial = f"{first_april}-{(first_april + 1) % 100:02d}-Q{((day.month - 4) % 12) // 3 + 1}"
        truth[Seeded(calendar_quarter, financial, band(birth_age), source)] += 1
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(insert(Child), children)
        conn.execute(insert(Referral), referrals)  # each gets its random stats_key
        conn.execute(insert(ReferralConcern), concerns)
    engine.dispose()
    return truth


def figures(client, tokens, who, *group_by, **params):
    """The referral figures; the financial year 2025-26 unless ``params`` say otherwise."""
    query = [("group_by", g) for g in group_by] + list((params or {"period": FINANCIAL_YEAR}).items())
    return client.get("/api/v1/stats/referrals", params=query, headers=bearer(tokens, who))


def every_cell(body):
    """(part of the table, the cell's key) -> the cell, for every count a caller sees."""
    cells = {
        (part, tuple(sorted(c["key"].items()))): c
        for part in ("cells", "row_totals", "column_totals")
        for c in body[part]
    }
    cells[("total", ())] = body["total"]
    return cells


def counts_shown(body):
    """Every count a caller sees in a figures table: cells, totals and the grand total."""
    return [c["count"] for c in every_cell(body).values()]


def small_counts_shown(body):
    return [n for n in counts_shown(body) if n is not None and 1 <= n <= 5]


def protected_as_published(shown, exact):
    """What is wrong with ``shown`` as the protected version of the exact table ``exact``: every
    true count from 1 to 5 hidden, every count shown within MAX_NOISE of the truth (and never
    1 to 5), a zero shown as zero, each cell's display what it prints, every category listed."""
    wrong = []
    truth, cells = every_cell(exact), every_cell(shown)
    if cells.keys() != truth.keys():
        wrong.append(("categories differ", sorted(cells.keys() ^ truth.keys())))
    for where, cell in cells.items():
        true = truth[where]["count"]
        if cell["count"] is None:
            if cell["display"] != "c" or cell["suppressed"] not in ("primary", "secondary"):
                wrong.append((where, cell))
            elif (cell["suppressed"] == "primary") != (1 <= true <= 5):
                wrong.append((where, "primary suppression of", true))
            continue
        if 1 <= true <= 5 or 1 <= cell["count"] <= 5 or abs(cell["count"] - true) > MAX_NOISE:
            wrong.append((where, true, cell["count"]))
        if (true == 0) != (cell["count"] == 0) or cell["display"] != str(cell["count"]):
            wrong.append((where, true, cell))
    return wrong


def counts_revealed_by_subtraction(body):
    """Lines of the table (a row, a column, the totals) whose total is shown with exactly one
    member hidden: that member would be the total minus the others, give or take the noise."""
    dims, cells = body["dimensions"], body["cells"]
    lines = []
    if len(dims) == 1:
        lines.append((cells, body["total"]))
    else:
        first, second = dims
        for total in body["row_totals"]:
            lines.append(([c for c in cells if c["key"][first] == total["key"][first]], total))
        for total in body["column_totals"]:
            lines.append(([c for c in cells if c["key"][second] == total["key"][second]], total))
        lines.append((body["row_totals"], body["total"]))
        lines.append((body["column_totals"], body["total"]))
    return [
        [m["key"] for m in members]
        for members, total in lines
        if total["count"] is not None and sum(m["count"] is None for m in members) == 1
    ]


def test_an_analyst_gets_exact_figures_that_match_an_independent_count(client, tokens, database_url):
    truth = seed_year(database_url)
    response = figures(client, tokens, ANALYST, "quarter", "age_band")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["exact"] is True
    assert body["period"]["label"] == FINANCIAL_YEAR
    by_quarter_and_band = Counter()
    for seeded, n in truth.items():
        by_quarter_and_band[(seeded.quarter, seeded.age_band)] += n
    # Every calendar quarter the financial year touches, by every band, zeros included.
    quarters = ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert [(c["key"]["quarter"], c["key"]["age_band"]) for c in body["cells"]] == [
        (q, b) for q in quarters for b in AGE_BANDS
    ]
    assert {(c["key"]["quarter"], c["key"]["age_band"]): c["count"] for c in body["cells"]} == {
        (q, b): by_quarter_and_band[(q, b)] for q in quarters for b in AGE_BANDS
    }
    assert body["total"] == {"key": {}, "count": 400, "suppressed": None, "display": "400"}
    assert sum(truth.values()) == 400

    financial = figures(client, tokens, ANALYST, "financial_quarter", "age_band").json()
    by_financial_quarter = Counter()
    for seeded, n in truth.items():
        by_financial_quarter[seeded.financial_quarter] += n
    assert {t["key"]["financial_quarter"]: t["count"] for t in financial["row_totals"]} == {
        f"2025-26-Q{q}": by_financial_quarter[f"2025-26-Q{q}"] for q in range(1, 5)
    }
    by_source = figures(client, tokens, ANALYST, "source_agency_type").json()
    sources = Counter()
    for seeded, n in truth.items():
        sources[seeded.source] += n
    assert {c["key"]["source_agency_type"]: c["count"] for c in by_source["cells"]} == {
        agency_type.value: sources[agency_type.value] for agency_type in AgencyType
    }


TABLES = (
    ("quarter", "age_band"),
    ("financial_quarter", "age_band"),
    ("source_agency_type", "age_band"),
    ("quarter",),
    ("age_band",),
    ("month", "outcome"),
    ("signposted_to",),
)


def test_a_manager_never_sees_a_count_from_1_to_5_and_every_count_shown_is_near_the_truth(
    client, tokens, database_url, subtests
):
    seed_year(database_url)
    for dims in TABLES:
        with subtests.test(group_by=dims):
            exact = figures(client, tokens, ANALYST, *dims).json()
            body = figures(client, tokens, MANAGER, *dims).json()
            assert body["exact"] is False
            assert small_counts_shown(body) == []
            assert protected_as_published(body, exact) == []
    suppressed = figures(client, tokens, MANAGER, "quarter", "age_band").json()
    assert {c["suppressed"] for c in suppressed["cells"]} >= {"primary", "secondary"}
    # The noise is the records' own: asked again, the same table comes back.
    assert figures(client, tokens, MANAGER, "quarter", "age_band").json() == suppressed


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
        assert protected_as_published(body, figures(client, tokens, ANALYST, *dims).json()) == []
    assert figures(client, tokens, ANALYST, "quarter").json()["exact"] is True


@pytest.mark.parametrize(
    ("who", "params", "parameter"),
    [
        (ANALYST, {"group_by": "shoe_size"}, "group_by.0"),
        (ANALYST, {"group_by": "quarter", "from": "2026-01-01", "to": "2025-01-01"}, "to"),
        (ANALYST, {"group_by": "quarter", "from": "2010-01-01", "to": "2026-01-01"}, "to"),
        # A time without its offset could be read as UTC or as the time in England.
        (ANALYST, {"group_by": "quarter", "from": "2025-04-01T10:00:00", "to": "2026-04-01"}, "from"),
        (ANALYST, {"group_by": "quarter", "from": "2025-04-01T00:00:00", "to": "2026-04-01"}, "from"),
        (ANALYST, {"group_by": "quarter", "period": "2025-27"}, "period"),
        (ANALYST, {"group_by": "quarter", "period": "2025-26", "from": "2025-04-01"}, "period"),
        # Without exact figures, windows are whole months: no differencing by the day or minute.
        (MANAGER, {"group_by": "quarter", "from": "2025-04-15", "to": "2025-06-01"}, "from"),
        (MANAGER, {"group_by": "quarter", "from": "2025-04-01", "to": "2025-06-01T12:00:00+01:00"}, "to"),
        (MANAGER, {"group_by": "quarter", "from": "2025-04-01T00:30:00+01:00", "to": "2025-06-01"}, "from"),
    ],
    ids=[
        "unknown dimension",
        "ends before it starts",
        "over ten years",
        "naive datetime",
        "naive midnight",
        "no such period",
        "period and dates",
        "mid-month start without exact figures",
        "mid-day end without exact figures",
        "half past midnight in England",
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, tokens, who, params, parameter):
    response = client.get("/api/v1/stats/referrals", params=params, headers=bearer(tokens, who))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == parameter


def test_an_exact_analyst_may_count_any_window_of_days_or_times(client, tokens, referral_clock):
    for at in (
        "2025-04-14T22:59:00Z",
        "2025-04-14T23:00:00Z",
        "2025-05-01T10:59:00Z",
        "2025-05-01T11:00:00Z",
    ):
        referral_clock.now = datetime.fromisoformat(at)
        submit(client, tokens)
    # From midnight in England on 15 April (23:00 UTC the day before) to noon on 1 May (11:00 UTC).
    body = figures(
        client, tokens, ANALYST, "month", **{"from": "2025-04-15", "to": "2025-05-01T12:00:00+01:00"}
    )
    assert body.status_code == 200, body.text
    assert counted(body.json()) == {"2025-04": 1, "2025-05": 1}
    assert body.json()["period"]["label"] == "2025-04-15/2025-05-01"
    # A midnight time with its offset is that instant, not the day in England: 00:00 UTC on
    # 15 April is 01:00 in England, after the referral at 23:00 UTC on the 14th (00:00 BST).
    by_time = figures(
        client,
        tokens,
        ANALYST,
        "month",
        **{"from": "2025-04-15T00:00:00Z", "to": "2025-05-01T12:00:00+01:00"},
    )
    assert by_time.json()["period"]["from"].startswith("2025-04-15T00:00:00")
    assert counted(by_time.json()) == {"2025-05": 1}


def test_a_financial_quarter_runs_from_april_to_june_in_england(client, tokens, referral_clock):
    for at in (
        "2025-03-31T22:30:00Z",  # 23:30 on 31 March in England: the year before
        "2025-03-31T23:30:00Z",  # 00:30 on 1 April in England (summer time)
        "2025-06-30T22:30:00Z",  # 23:30 on 30 June
        "2025-06-30T23:30:00Z",  # 00:30 on 1 July: the second quarter
    ):
        referral_clock.now = datetime.fromisoformat(at)
        submit(client, tokens)
    body = figures(client, tokens, ANALYST, "month", period="2025-26-Q1").json()
    assert body["period"] == {
        "label": "2025-26-Q1",
        "from": "2025-03-31T23:00:00Z",
        "to": "2025-06-30T23:00:00Z",
        "as_of": "2025-06-30T23:00:00Z",
    }
    assert {c["key"]["month"]: c["count"] for c in body["cells"]} == {
        "2025-04": 1,
        "2025-05": 0,
        "2025-06": 1,
    }
    by_quarter = figures(client, tokens, ANALYST, "financial_quarter", period="2025").json()
    assert counted(by_quarter) == {"2024-25-Q4": 1, "2025-26-Q1": 2, "2025-26-Q2": 1}
    assert [c["key"]["financial_quarter"] for c in by_quarter["cells"]] == [
        "2024-25-Q4",
        "2025-26-Q1",
        "2025-26-Q2",
        "2025-26-Q3",
    ]


def test_a_request_without_dates_names_the_current_financial_year_and_its_etag_is_stable(client, tokens):
    first = client.get(
        "/api/v1/stats/referrals", params={"group_by": "quarter"}, headers=bearer(tokens, MANAGER)
    )
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, max-age=60"
    assert first.json()["period"]["label"] == financial_year_of(england_day(datetime.now(UTC)))
    again = client.get(
        "/api/v1/stats/referrals",
        params={"group_by": "quarter"},
        headers={**bearer(tokens, MANAGER), "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


def test_a_referral_received_today_changes_only_the_exact_figures_until_next_month(
    client, tokens, referral_clock
):
    def ask(who):
        answer = client.get(
            "/api/v1/stats/referrals", params={"group_by": "month"}, headers=bearer(tokens, who)
        )
        assert answer.status_code == 200, answer.text
        return answer

    before = ask(MANAGER)
    counted_until = datetime.fromisoformat(before.json()["period"]["as_of"])
    assert england_day(counted_until).day == 1  # the start of this month in England
    # Seven referrals earlier in the year, so there is something to count.
    referral_clock.now = max(
        counted_until - timedelta(days=3), datetime.fromisoformat(before.json()["period"]["from"])
    )
    for _ in range(7):
        submit(client, tokens)
    referral_clock.now = None
    this_month = ask(MANAGER)
    analyst_before = ask(ANALYST).json()["total"]["count"]

    submit(client, tokens)  # received now
    after = ask(MANAGER)
    assert after.headers["etag"] == this_month.headers["etag"]
    assert after.json() == this_month.json()
    assert ask(ANALYST).json()["total"]["count"] == analyst_before + 1


def test_places_of_concern_are_counted_by_ward_with_small_numbers_hidden(client, tokens, database_url):
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
    # Recorded in October 2025, a month every caller may count.
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(update(PlaceOfConcern).values(created_at=datetime(2025, 10, 15, 12, 0, tzinfo=UTC)))
    engine.dispose()

    def places(who, period="2025-10"):
        answer = client.get(
            "/api/v1/stats/places-of-concern", params={"period": period}, headers=bearer(tokens, who)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    exact = places(ANALYST)
    assert {
        (c["key"]["ward_code"], c["key"]["place_type"]): c["count"] for c in exact["cells"] if c["count"]
    } == {("E05010863", "hotel"): 8, ("E05010870", "park"): 1}
    # Every place type of every ward, zeros included.
    assert len(exact["cells"]) == 3 * len(PlaceType)
    assert exact["period"]["label"] == "2025-10"
    shown = places(MANAGER)
    assert small_counts_shown(shown) == []
    assert protected_as_published(shown, exact) == []
    # A month before any was recorded lists no ward but the places without one.
    assert {c["key"]["ward_code"] for c in places(MANAGER, "2025-09")["cells"]} == {"online or unknown"}


# --- Figures from referrals as partners send them -------------------------------------------

POLICE_OFFICER = {**POLICE, "roles": ["practitioner"]}
JULY_2025_TO_MARCH_2026 = ("2025-07-01", "2026-04-01")  # plain dates: midnight in England


def analyst_figures(client, tokens, *group_by, period=JULY_2025_TO_MARCH_2026, who=ANALYST):
    query = [("group_by", g) for g in group_by] + [("from", period[0]), ("to", period[1])]
    response = client.get("/api/v1/stats/referrals", params=query, headers=bearer(tokens, who))
    assert response.status_code == 200, response.text
    return response.json()


def counted(body):
    """Cell key (a dimension's value, or a pair of them) -> count, leaving out empty cells
    (zeros are listed: every category of every dimension is)."""

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
    assert body["total"]["count"] == len(AGE_BAND_REFERRALS)
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
    signposted_to: str | None = None  # a service of the partnership agreement


# Every expectation below is counted from this table.
CSE, CCE, LINES, NFA = "sexual_exploitation", "criminal_exploitation", "county_lines", "no_further_action"
AUTUMN = [
    Referred("2025-09-03", "female", "white_british", False, (CSE,), "allocated"),
    Referred("2025-09-17", "female", "white_british", True, (CSE, "online_harm"), "allocated", True),
    Referred("2025-09-24", "male", "black_caribbean", False, (LINES,), "signposted", False, "early-help"),
    Referred("2025-10-01", "male", "black_caribbean", True, (CCE,), NFA, True),
    Referred("2025-10-08", "male", "white_irish", False, (LINES,), "allocated"),
    Referred(
        "2025-10-15",
        "another_gender",
        "white_british",
        False,
        (CSE,),
        "signposted",
        True,
        "community-youth-team",
    ),
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
    "quarter": lambda r: [f"{r.day[:4]}-Q{(int(r.day[5:7]) + 2) // 3}"],
    "financial_quarter": lambda r: ["2025-26-Q2" if r.day < "2025-10-01" else "2025-26-Q3"],
    "gender": lambda r: [r.gender],
    "ethnicity": lambda r: [r.ethnicity],
    "looked_after": lambda r: ["looked_after" if r.looked_after else "not_looked_after"],
    "concern_type": lambda r: list(r.concerns),
    "outcome": lambda r: [OUTCOME_OF[r.decision]],
    "signposted_to": lambda r: [r.signposted_to or "none"],
}
# Every category each dimension lists over July 2025 to March 2026, in order, zeros included.
SERVICES = [  # the demonstration agreement's services
    "community-youth-team",
    "early-help",
    "post-abuse-support",
    "sexual-health-service",
    "missing-advocates",
    "school-inclusion",
]
CATEGORIES = {
    "month": [
        "2025-07",
        "2025-08",
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ],
    "quarter": ["2025-Q3", "2025-Q4", "2026-Q1"],
    "financial_quarter": ["2025-26-Q2", "2025-26-Q3", "2025-26-Q4"],
    "gender": [g.value for g in Gender],
    "ethnicity": [e.value for e in Ethnicity],
    "looked_after": ["looked_after", "not_looked_after"],
    "concern_type": [c.value for c in ConcernType],
    "outcome": ["allocated", "signposted", "no_further_action", "open"],
    "signposted_to": [*SERVICES, "other", "none"],
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
            where = {"signposted_to": referred.signposted_to} if referred.signposted_to else {}
            referral = screen_and_decide(client, tokens, referral, referred.decision, **where)
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
            assert [c["key"][dimension] for c in body["cells"]] == CATEGORIES[dimension]
            assert {t["key"][dimension]: t["count"] for t in body["row_totals"] if t["count"]} == dict(
                expected
            )
            assert body["total"]["count"] == sum(expected.values())
            assert body["exact"] is True


def test_signposted_to_lists_the_agreements_services_and_counts_free_text_from_before_as_other(
    client, tokens, referral_clock, database_url
):
    assert [s.slug for s in client.app.state.agreement.services] == SERVICES
    referral_clock.now = datetime(2025, 10, 6, 10, 0, tzinfo=UTC)
    for where in ("community-youth-team", "community-youth-team", "early-help"):
        screen_and_decide(client, tokens, submit(client, tokens), "signposted", signposted_to=where)
    before_the_list = screen_and_decide(
        client, tokens, submit(client, tokens), "signposted", signposted_to="early-help"
    )
    submit(client, tokens)  # still open: signposted nowhere
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:  # as recorded before the agreement kept a closed list
        conn.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(before_the_list["id"]))
            .values(signposted_to="Community Youth Team (Hillsborough)")
        )
    engine.dispose()
    body = analyst_figures(client, tokens, "signposted_to")
    assert {c["key"]["signposted_to"]: c["count"] for c in body["cells"]} == {
        "community-youth-team": 2,
        "early-help": 1,
        "post-abuse-support": 0,
        "sexual-health-service": 0,
        "missing-advocates": 0,
        "school-inclusion": 0,
        "other": 1,
        "none": 1,
    }
    assert "Hillsborough" not in str(body)


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
    assert by_concern["total"]["count"] == 3
    assert "Referrals with several concern types count once per type" in by_concern["note"]
    assert analyst_figures(client, tokens, "outcome")["total"]["count"] == 2


def test_a_manager_never_sees_a_count_from_1_to_5_in_any_grouping(client, tokens, database_url, subtests):
    seed_year(database_url)
    period = ("2025-04-01", "2026-04-01")
    small_ones_hidden = 0
    for dimension in GROUPINGS:
        for dims in ((dimension,), ("quarter", dimension), (dimension, "age_band")):
            if len(set(dims)) < len(dims):
                continue
            with subtests.test(group_by=dims):
                exact = analyst_figures(client, tokens, *dims, period=period)
                body = analyst_figures(client, tokens, *dims, period=period, who=MANAGER)
                assert small_counts_shown(body) == []
                assert counts_revealed_by_subtraction(body) == []
                assert body["exact"] is False
                assert protected_as_published(body, exact) == []
                small = [c["key"] for c in exact["cells"] if 1 <= c["count"] <= 5]
                small_ones_hidden += len(small)
    assert small_ones_hidden > 0  # there were small counts to hide


# --- Timeliness ----------------------------------------------------------------------------

FRIDAY_AFTERNOON = datetime(2025, 11, 21, 15, 0, tzinfo=UTC)  # 15:00 in London too (GMT)
DECISION_DUE = datetime(2025, 11, 25, 0, 0, tzinfo=UTC)  # by the end of the next working day: Monday
# For each referral received that Friday afternoon: when the hub decided, and how many hours
# after receipt a worker first spoke with the child.
DECIDED_AND_CONTACTED = [
    (datetime(2025, 11, 21, 16, 0, tzinfo=UTC), 0.5),
    (datetime(2025, 11, 22, 10, 0, tzinfo=UTC), 1),  # a Saturday
    (datetime(2025, 11, 24, 9, 0, tzinfo=UTC), 2),
    (datetime(2025, 11, 24, 14, 59, tzinfo=UTC), 3),
    (datetime(2025, 11, 25, 0, 0, tzinfo=UTC), 4),  # exactly when due: still on time
    (datetime(2025, 11, 25, 0, 1, tzinfo=UTC), 6),
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
NOVEMBER = "2025-11"


def timeliness(client, tokens, who, period=NOVEMBER):
    response = client.get("/api/v1/stats/timeliness", params={"period": period}, headers=bearer(tokens, who))
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
    assert figures["period"]["label"] == NOVEMBER

    on_time = sum(decided <= DECISION_DUE for decided, _ in DECIDED_AND_CONTACTED)
    assert on_time == 7
    due = len(DECIDED_AND_CONTACTED) + 1  # the one never decided is late, not left out
    assert figures["decisions_within_one_working_day"] == {
        "on_time": exact_cell("decisions_on_time", on_time),
        "total": exact_cell("decisions_due", due),
        "share": round(on_time / due, 3),  # 7 of 12: 0.583
    }

    hours = [h for _, h in DECIDED_AND_CONTACTED]
    # With 11 intervals the median and the 90th percentile fall on an interval itself
    # (the 6th and the 10th), whichever percentile method a reader uses.
    assert figures["first_contact"] == {
        "referrals_with_contact": exact_cell("referrals_with_contact", len(hours)),
        "median_hours": statistics.median(hours),
        "p90_hours": statistics.quantiles(hours, n=10, method="inclusive")[8],
    }
    assert (figures["first_contact"]["median_hours"], figures["first_contact"]["p90_hours"]) == (6.0, 48.0)

    within_72_hours = sum(
        datetime.fromisoformat(at) - datetime.fromisoformat(found) <= timedelta(hours=72)
        for _, found, _, at in FOUND_AND_INTERVIEWED
    )
    assert figures["return_home_interviews_within_72_hours"] == {
        "on_time": exact_cell("interviews_on_time", within_72_hours),
        "total": exact_cell("children_found", len(FOUND_AND_INTERVIEWED)),
        "share": round(within_72_hours / len(FOUND_AND_INTERVIEWED), 3),
    }
    assert figures["return_home_interviews_within_72_hours"]["share"] == 0.667  # 2 of 3
    assert figures["migrated_referrals_excluded"] == exact_cell("migrated_referrals_excluded", 0)

    # A manager sees the same figures with every count from 1 to 5 hidden and the rest perturbed.
    shown = timeliness(client, tokens, MANAGER)
    assert shown["exact"] is False
    decisions = shown["decisions_within_one_working_day"]
    # 12 decisions due are shown (give or take the noise) but not the 7 on time, from which the
    # 5 late would follow.
    assert abs(decisions["total"]["count"] - due) <= MAX_NOISE
    assert decisions["on_time"] == {
        "key": {"measure": "decisions_on_time"},
        "count": None,
        "suppressed": "secondary",
        "display": "c",
    }
    assert decisions["share"] is None
    contact = shown["first_contact"]
    assert 6 <= contact["referrals_with_contact"]["count"] <= len(hours) + MAX_NOISE
    # Eleven referrals: their median and 90th percentile single out nobody.
    assert (contact["median_hours"], contact["p90_hours"]) == (6.0, 48.0)
    interviews = shown["return_home_interviews_within_72_hours"]
    assert [interviews["on_time"]["suppressed"], interviews["total"]["suppressed"]] == ["primary", "primary"]
    assert interviews["share"] is None
    every_count = [
        contact["referrals_with_contact"],
        decisions["on_time"],
        decisions["total"],
        interviews["on_time"],
        interviews["total"],
        shown["migrated_referrals_excluded"],
    ]
    assert [c for c in every_count if c["count"] is not None and 1 <= c["count"] <= 5] == []


def exact_cell(measure, count):
    return {"key": {"measure": measure}, "count": count, "suppressed": None, "display": str(count)}


def test_timeliness_leaves_out_migrated_referrals_and_says_how_many(
    client, tokens, referral_clock, database_url
):
    a_november_of_referrals_and_missing_children(client, tokens, referral_clock)
    before = timeliness(client, tokens, ANALYST)
    # Loaded from the partnership's spreadsheet: received, decided late and contacted in November,
    # with times typed in afterwards, not recorded as they happened.
    referral_clock.now = datetime(2025, 11, 14, 10, 0, tzinfo=UTC)
    migrated = submit(client, tokens)
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(migrated["id"]))
            .values(
                migrated=True,
                decided_at=datetime(2025, 11, 20, 10, 0, tzinfo=UTC),
                first_contact_at=datetime(2025, 11, 27, 10, 0, tzinfo=UTC),
            )
        )
    engine.dispose()
    after = timeliness(client, tokens, ANALYST)
    assert after["migrated_referrals_excluded"] == exact_cell("migrated_referrals_excluded", 1)
    for figure in ("first_contact", "decisions_within_one_working_day"):
        assert after[figure] == before[figure]
    assert timeliness(client, tokens, MANAGER)["migrated_referrals_excluded"]["display"] == "c"
    # They are referrals all the same, counted by the date they were received.
    assert (
        analyst_figures(client, tokens, "month", period=("2025-11-01", "2025-12-01"))["total"]["count"] == 13
    )


def test_timeliness_of_a_month_of_prompt_contacts(client, tokens, referral_clock):
    school = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
    worker = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
    referral_clock.now = datetime(2025, 10, 10, 9, 0, tzinfo=UTC)
    made = [submit(client, tokens, school) for _ in range(7)]
    for referral in made:
        response = client.post(
            f"/api/v1/referrals/{referral['id']}/first-contact",
            json={"contacted_at": referral["received_at"]},
            headers={**bearer(tokens, worker), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
    referral_clock.now = None
    exact = timeliness(client, tokens, ANALYST, period="2025-10")
    assert exact["first_contact"]["referrals_with_contact"]["count"] == 7
    assert exact["first_contact"]["median_hours"] == 0.0
    # Never decided, and long past due: all seven late.
    assert exact["decisions_within_one_working_day"] == {
        "on_time": exact_cell("decisions_on_time", 0),
        "total": exact_cell("decisions_due", 7),
        "share": 0.0,
    }
    shown = timeliness(client, tokens, MANAGER, period="2025-10")
    assert abs(shown["first_contact"]["referrals_with_contact"]["count"] - 7) <= MAX_NOISE
    assert shown["first_contact"]["median_hours"] == 0.0  # seven: above the threshold
    decisions = shown["decisions_within_one_working_day"]
    assert decisions["on_time"]["count"] == 0  # a zero discloses no child
    assert decisions["share"] == 0.0


def test_a_median_of_five_or_fewer_first_contacts_is_shown_only_as_exact_figures(
    client, tokens, referral_clock
):
    worker = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
    referral_clock.now = datetime(2025, 10, 10, 9, 0, tzinfo=UTC)
    for _ in range(3):
        referral_clock.now = datetime(2025, 10, 10, 9, 0, tzinfo=UTC)
        referral = submit(client, tokens)
        referral_clock.now = datetime(2025, 10, 10, 14, 0, tzinfo=UTC)
        response = client.post(
            f"/api/v1/referrals/{referral['id']}/first-contact",
            json={"contacted_at": "2025-10-10T13:00:00Z"},
            headers={**bearer(tokens, worker), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
    referral_clock.now = None
    assert timeliness(client, tokens, ANALYST, period="2025-10")["first_contact"]["median_hours"] == 4.0
    shown = timeliness(client, tokens, MANAGER, period="2025-10")["first_contact"]
    assert shown == {
        "referrals_with_contact": {
            "key": {"measure": "referrals_with_contact"},
            "count": None,
            "suppressed": "primary",
            "display": "c",
        },
        "median_hours": None,
        "p90_hours": None,
    }


def test_a_referral_just_after_midnight_in_england_counts_in_the_new_quarter_and_month():
    # 00:30 on 1 October 2026 in London is 23:30 on 30 September in UTC (summer time).
    just_after_midnight = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    assert reporting_periods(just_after_midnight) == ("2026-Q4", "2026-10")
    # A child born on 1 October 2012 turns 14 that day: in the 14-16 band, not 10-13.
    assert age_band(age_on(reporting_day(just_after_midnight), date(2012, 10, 1))) == "14-16"
    # In winter, England's date is UTC's.
    assert reporting_periods(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == ("2026-Q4", "2026-12")
