"""A scrutiny committee's figures: exact for analysts, never a small number for anyone else."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import age_band, age_on, reporting_periods
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
    rng = random.Random(8)
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
        children.append(
            {
                "id": child_id,
                "given_name": "Test",
                "family_name": "Child",
                "name_key": "child|test",
                "date_of_birth": birth,
                "gender": "female",
                "ethnicity": "not_stated",
                "created_by_agency": "seed",
                "created_at": received,
                "updated_at": received,
                "version": 1,
                "looked_after": False,
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
                "status": "received",
                "received_at": received,
                "decision_due_at": received + timedelta(days=1),
                "received_quarter": reporting_periods(received)[0],
                "received_month": reporting_periods(received)[1],
                "age_band_at_referral": age_band(age_on(received.date(), birth)),
                "version": 1,
            }
        )
        concerns.append({"referral_id": referral_id, "concern_type": "criminal_exploitation"})
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
    return client.get("/api/v1/stats/referrals", params=query, headers=tokens.headers(**who))


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
        shown = [c["count"] for part in ("cells", "row_totals", "column_totals") for c in body[part]] + [
            body["total"]
        ]
        assert not any(isinstance(n, int) and 1 <= n <= 5 for n in shown), dims
        assert body["exact"] is False
    suppressed = figures(client, tokens, MANAGER, "quarter", "age_band").json()
    assert {c["suppressed"] for c in suppressed["cells"]} >= {"primary", "secondary"}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"group_by": "shoe_size"}, "group_by.0"),
        ({"group_by": "quarter", "from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        ({"group_by": "quarter", "from": "2010-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, tokens, params, parameter):
    response = client.get("/api/v1/stats/referrals", params=params, headers=tokens.headers(**ANALYST))
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter


def test_figures_are_cacheable_with_an_etag(client, tokens, database_url):
    seed_year(database_url, count=30)
    first = figures(client, tokens, MANAGER, "quarter")
    assert first.headers["cache-control"] == "private, max-age=60"
    again = client.get(
        "/api/v1/stats/referrals",
        params=[("group_by", "quarter"), ("from", YEAR[0].isoformat()), ("to", YEAR[1].isoformat())],
        headers={**tokens.headers(**MANAGER), "If-None-Match": first.headers["etag"]},
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
        client.post("/api/v1/referrals", json=body, headers=tokens.headers(**school)).json() for _ in range(7)
    ]
    for referral in made:
        client.post(
            f"/api/v1/referrals/{referral['id']}/first-contact",
            json={"contacted_at": referral["received_at"]},
            headers={**tokens.headers(**worker), "If-Match": '"1"'},
        )
    exact = client.get("/api/v1/stats/timeliness", headers=tokens.headers(**ANALYST)).json()
    assert exact["first_contact"]["referrals_with_contact"] == 7
    assert exact["first_contact"]["median_hours"] == 0.0
    assert exact["decisions_within_one_working_day"] == {"on_time": 0, "total": 0, "share": None}
    shown = client.get("/api/v1/stats/timeliness", headers=tokens.headers(**MANAGER)).json()
    assert shown["first_contact"]["referrals_with_contact"] == 7  # 7 is above the threshold


def test_places_of_concern_are_counted_by_ward_with_small_numbers_hidden(client, tokens):
    officer = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
    for i in range(8):
        client.post(
            "/api/v1/places-of-concern",
            json={"place_type": "hotel", "name": f"Hotel {i}", "ward_code": "E05010863"},
            headers=tokens.headers(**officer),
        )
    client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "park", "name": "Park", "ward_code": "E05010870"},
        headers=tokens.headers(**officer),
    )
    exact = client.get("/api/v1/stats/places-of-concern", headers=tokens.headers(**ANALYST)).json()
    assert {
        (c["key"]["ward_code"], c["key"]["place_type"]): c["count"] for c in exact["cells"] if c["count"]
    } == {("E05010863", "hotel"): 8, ("E05010870", "park"): 1}
    shown = client.get("/api/v1/stats/places-of-concern", headers=tokens.headers(**MANAGER)).json()
    numbers = [c["count"] for part in ("cells", "row_totals", "column_totals") for c in shown[part]] + [
        shown["total"]
    ]
    assert not any(isinstance(n, int) and 1 <= n <= 5 for n in numbers)
