"""Risk figures for scrutiny: children by level, movements and assessments per child,
in reporting periods, exact for `exact_figures` analysts and protected for everyone
else (no count from 1 to 5 shown, counts shown within the cell key method's noise,
every category listed, nothing moving with a single assessment this month)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from risk_scenarios import ANALYST, ASSESSOR, MANAGER, answers, new_child
from sqlalchemy import create_engine, update

from risk_api.assessments.models import Assessment
from safeguarding_kit.db import normalise_url, utc_now
from safeguarding_kit.disclosure import MAX_NOISE
from safeguarding_kit.periods import england_day, england_midnight

pytestmark = pytest.mark.usefixtures("default_model")

STATS = "/api/v1/risk/stats"
LEVELS = ["low", "medium", "high"]
HIGH = {"answers": answers("hotel_with_adults")}  # a hard trigger
MEDIUM = {"age_at_assessment": 12, "answers": answers("missing_repeat", "exclusion")}  # 5 + 3 age points
LOW = {"answers": answers("missing_repeat")}


def this_month_start() -> datetime:
    today = england_day(utc_now())
    return england_midnight(date(today.year, today.month, 1))


def last_month() -> tuple[str, datetime]:
    """Last month's label (2026-10) and an instant in it."""
    instant = this_month_start() - timedelta(days=10)
    day = england_day(instant)
    return f"{day.year}-{day.month:02d}", instant


def assess(client, tokens, child, body):
    headers = tokens.headers(**ASSESSOR)
    current = client.get(f"/api/v1/risk/children/{child}", headers=headers)
    if current.status_code == 200:
        headers["If-Match"] = current.headers["etag"]
    response = client.post(f"/api/v1/risk/children/{child}/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def backdate(database_url, children, when: datetime) -> None:
    """Record the children's assessments as made at ``when`` (as a historic load would)."""
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(update(Assessment).where(Assessment.child_id.in_(children)).values(assessed_at=when))
    engine.dispose()


def assessed(client, tokens, database_url, when, *bodies) -> list[str]:
    """A new child per body, assessed once and recorded as assessed at ``when``."""
    children = [new_child() for _ in bodies]
    for child, body in zip(children, bodies, strict=True):
        assess(client, tokens, child, body)
    backdate(database_url, [uuid.UUID(c) for c in children], when)
    return children


def figures(client, tokens, who, path, **params):
    response = client.get(f"{STATS}/{path}", params=params, headers=tokens.headers(**who))
    assert response.status_code == 200, response.text
    return response


def by_key(table, *dimensions):
    return {tuple(c["key"][d] for d in dimensions): c for c in table["cells"]}


def assert_protected(table, truth):
    """No count from 1 to 5 shown, each count shown within the noise of the truth, each
    hidden cell a non-zero count."""
    assert table["exact"] is False
    for cell in [*table["cells"], *table["row_totals"], *table["column_totals"], table["total"]]:
        true = truth(cell["key"])
        if cell["suppressed"] is None:
            assert cell["display"] == str(cell["count"])
            assert cell["count"] == 0 or cell["count"] > table["suppression_threshold"], cell
            assert abs(cell["count"] - true) <= MAX_NOISE, (cell, true)
            assert (cell["count"] == 0) == (true == 0), (cell, true)
        else:
            assert (cell["count"], cell["display"]) == (None, "c")
            assert true > 0
            if 1 <= true <= table["suppression_threshold"]:
                assert cell["suppressed"] == "primary"


def test_risk_figures_count_levels_and_movements_with_small_numbers_hidden(client, tokens, database_url):
    month, when = last_month()
    assessed(client, tokens, database_url, when, *[HIGH] * 6, LOW)

    exact = figures(client, tokens, ANALYST, "levels", period=month).json()
    assert exact["exact"] is True
    assert exact["period"]["label"] == month
    assert [(c["key"]["current_level"], c["count"]) for c in exact["cells"]] == [
        ("low", 1),
        ("medium", 0),
        ("high", 6),
    ]
    assert exact["total"] == {"key": {}, "count": 7, "suppressed": None, "display": "7"}

    shown = figures(client, tokens, MANAGER, "levels", period=month).json()
    truth = {"low": 1, "medium": 0, "high": 6}
    assert [c["key"]["current_level"] for c in shown["cells"]] == LEVELS
    assert by_key(shown, "current_level")[("low",)]["suppressed"] == "primary"
    # The high count is hidden too: with the total shown it would give the low one away.
    assert by_key(shown, "current_level")[("high",)]["display"] == "c"
    assert_protected(shown, lambda key: truth[key["current_level"]] if key else 7)

    moves = figures(client, tokens, ANALYST, "movements", period=month).json()
    cells = by_key(moves, "previous_level", "current_level")
    assert list(cells) == [(p, c) for p in ["none", *LEVELS] for c in LEVELS]
    assert {k: c["count"] for k, c in cells.items() if c["count"]} == {
        ("none", "high"): 6,
        ("none", "low"): 1,
    }

    per_child = figures(client, tokens, ANALYST, "assessments-per-child", period=month).json()
    assert [(c["key"]["assessments"], c["count"]) for c in per_child["cells"]] == [
        ("1", 7),
        ("2", 0),
        ("3", 0),
        ("4+", 0),
    ]
    assert per_child["total"]["count"] == 7


def test_risk_levels_for_partners_do_not_move_with_one_new_assessment_this_month(
    client, tokens, database_url
):
    _, when = last_month()
    children = assessed(client, tokens, database_url, when, *[LOW] * 9, *[MEDIUM] * 8, *[HIGH] * 7)
    truth = {"low": 9, "medium": 8, "high": 7}

    before = figures(client, tokens, MANAGER, "levels")
    body = before.json()
    others = {
        path: figures(client, tokens, MANAGER, path).json() for path in ("movements", "assessments-per-child")
    }
    assert body["period"]["as_of"].replace("Z", "+00:00") == this_month_start().isoformat()
    assert [c["key"]["current_level"] for c in body["cells"]] == LEVELS
    assert_protected(body, lambda key: truth[key["current_level"]] if key else 24)

    # This month: a low child rises to high, and a new child is assessed.
    assess(client, tokens, children[0], HIGH)
    assess(client, tokens, new_child(), MEDIUM)

    after = figures(client, tokens, MANAGER, "levels")
    assert after.json() == body
    assert after.headers["etag"] == before.headers["etag"]
    assert (
        client.get(
            f"{STATS}/levels", headers={**tokens.headers(**MANAGER), "If-None-Match": before.headers["etag"]}
        ).status_code
        == 304
    )
    for path, figure in others.items():
        assert figures(client, tokens, MANAGER, path).json() == figure

    # An exact_figures analyst sees the levels as at now.
    now = figures(client, tokens, ANALYST, "levels").json()
    assert {c["key"]["current_level"]: c["count"] for c in now["cells"]} == {"low": 8, "medium": 9, "high": 8}


def test_a_financial_quarter_counts_levels_as_at_its_end(client, tokens, database_url):
    in_quarter = datetime(2025, 5, 15, 10, tzinfo=UTC)
    children = assessed(client, tokens, database_url, in_quarter, *[LOW] * 7, *[HIGH] * 8)
    assessed(client, tokens, database_url, datetime(2025, 7, 2, 10, tzinfo=UTC), HIGH)  # Q2
    # Since the quarter: one child reassessed, and a manager's override of another's
    # assessment made in the quarter. Neither changes what the quarter's end saw.
    assess(client, tokens, children[0], HIGH)
    history = client.get(
        f"/api/v1/risk/children/{children[1]}/assessments", headers=tokens.headers(**ASSESSOR)
    ).json()["items"]
    overridden = client.post(
        f"/api/v1/risk/assessments/{history[0]['id']}/override",
        json={"level": "high", "reason": "Police intelligence: adults from the hotel group contacted him."},
        headers={**tokens.headers(**MANAGER), "If-Match": '"1"'},
    )
    assert overridden.status_code == 200, overridden.text

    table = figures(client, tokens, ANALYST, "levels", period="2025-26-Q1").json()
    assert table["period"] == {
        "label": "2025-26-Q1",
        "from": "2025-03-31T23:00:00Z",
        "to": "2025-06-30T23:00:00Z",
        "as_of": "2025-06-30T23:00:00Z",
    }
    truth = {"low": 7, "medium": 0, "high": 8}
    assert {c["key"]["current_level"]: c["count"] for c in table["cells"]} == truth
    per_child = figures(client, tokens, ANALYST, "assessments-per-child", period="2025-26-Q1").json()
    assert per_child["total"]["count"] == 15

    shown = figures(client, tokens, MANAGER, "levels", period="2025-26-Q1").json()
    assert shown["period"] == table["period"]
    assert_protected(shown, lambda key: truth[key["current_level"]] if key else 15)

    # The financial year holds the quarter's children and the one assessed in July.
    year = figures(client, tokens, ANALYST, "movements", period="2025-26").json()
    assert {
        (c["key"]["previous_level"], c["key"]["current_level"]): c["count"]
        for c in year["cells"]
        if c["count"]
    } == {("none", "low"): 7, ("none", "high"): 9}
    # As at now, the reassessment and the override count.
    now = figures(client, tokens, ANALYST, "levels").json()
    assert {c["key"]["current_level"]: c["count"] for c in now["cells"]} == {
        "low": 5,
        "medium": 0,
        "high": 11,
    }


def test_movements_compare_each_childs_level_at_the_start_and_end_of_the_period(client, tokens, database_url):
    march, april = datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 4, 20, tzinfo=UTC)
    rising = assessed(client, tokens, database_url, march, *[LOW] * 6)
    falling = assessed(client, tokens, database_url, march, *[HIGH] * 7)
    for child in rising:
        assess(client, tokens, child, HIGH)
    for child in falling:
        assess(client, tokens, child, LOW)
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(update(Assessment).where(Assessment.assessed_at > march).values(assessed_at=april))
    engine.dispose()

    april_figures = figures(client, tokens, ANALYST, "movements", period="2025-04").json()
    cells = by_key(april_figures, "previous_level", "current_level")
    assert {k: c["count"] for k, c in cells.items() if c["count"]} == {("low", "high"): 6, ("high", "low"): 7}
    march_figures = figures(client, tokens, ANALYST, "movements", period="2025-03").json()
    assert {
        k: c["count"]
        for k, c in by_key(march_figures, "previous_level", "current_level").items()
        if c["count"]
    } == {("none", "low"): 6, ("none", "high"): 7}
    per_child = figures(
        client, tokens, ANALYST, "assessments-per-child", **{"from": "2025-03-01", "to": "2025-05-01"}
    )
    assert by_key(per_child.json(), "assessments")[("2",)]["count"] == 13


def test_partners_ask_for_whole_months_only(client, tokens):
    refused = client.get(
        f"{STATS}/levels",
        params={"from": "2025-04-03", "to": "2025-05-01"},
        headers=tokens.headers(**MANAGER),
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["parameter"] == "from"
    assert (
        client.get(
            f"{STATS}/movements", params={"period": "2025-13"}, headers=tokens.headers(**MANAGER)
        ).status_code
        == 422
    )
    exact = client.get(
        f"{STATS}/levels",
        params={"from": "2025-04-03", "to": "2025-05-01"},
        headers=tokens.headers(**ANALYST),
    )
    assert exact.status_code == 200
