"""Issue 14's acceptance: a published year loaded by the migration path reads back, for an
analyst with exact figures, as exactly that table by financial quarter, and for anyone
else as the same table with every count from 1 to 5 shown as `c` and every other count
within the cell key method's published noise."""

from __future__ import annotations

import uuid

import httpx
import pytest
from published_annual_table import load, rows, table

from safeguarding_kit.disclosure import MAX_NOISE

pytestmark = pytest.mark.e2e

ADMINISTRATOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
EXACT_ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
PARTNERS = {
    "hub health analyst": {"agency": "sheffield-health", "agency_type": "health", "roles": ["analyst"]},
    "school practitioner": {
        "agency": "sheffield-schools",
        "agency_type": "education",
        "roles": ["practitioner"],
    },
}
DIMENSIONS = ["age_band", "gender", "ethnicity", "looked_after", "outcome"]


@pytest.fixture(scope="module")
def published(stack, stack_tokens):
    made = rows(f"ANNUAL-{uuid.uuid4().hex[:6]}")
    with httpx.Client(base_url=stack.config.gateway_url, timeout=30) as gateway:
        load(gateway, stack_tokens.headers(**ADMINISTRATOR), made)
    return made


def figures(stack, stack_tokens, caller, dimension):
    answer = httpx.get(
        stack.config.gateway_url + "/api/v1/stats/referrals",
        params={"period": "2016-17", "group_by": ["financial_quarter", dimension]},
        headers=stack_tokens.headers(**caller),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_an_exact_figures_analyst_reads_back_exactly_the_published_table(
    published, stack, stack_tokens, dimension
):
    expected = table(published, dimension)
    body = figures(stack, stack_tokens, EXACT_ANALYST, dimension)
    assert body["exact"] is True
    got = {(c["key"]["financial_quarter"], c["key"][dimension]): c["count"] for c in body["cells"]}
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert body["total"]["count"] == len(published) == 36
    quarters = {t["key"]["financial_quarter"]: t["count"] for t in body["row_totals"]}
    assert quarters == {"2016-17-Q1": 9, "2016-17-Q2": 11, "2016-17-Q3": 7, "2016-17-Q4": 9}


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("caller", sorted(PARTNERS))
def test_anyone_else_reads_the_same_table_with_small_counts_as_c(
    published, stack, stack_tokens, caller, dimension
):
    expected = table(published, dimension)
    body = figures(stack, stack_tokens, PARTNERS[caller], dimension)
    assert body["exact"] is False
    small = 0
    for cell in body["cells"]:
        truth = expected.get((cell["key"]["financial_quarter"], cell["key"][dimension]), 0)
        if 1 <= truth <= 5:
            small += 1
            assert (cell["count"], cell["display"], cell["suppressed"]) == (None, "c", "primary"), cell
        elif cell["suppressed"] is None:
            assert abs(cell["count"] - truth) <= MAX_NOISE, (cell, truth)
            assert cell["display"] == str(cell["count"])
            assert truth == 0 or cell["count"] > 5
        else:
            assert cell["suppressed"] == "secondary"
    assert small >= 3, "the published table has several cells from 1 to 5"
    total = body["total"]
    assert total["suppressed"] is None
    assert abs(total["count"] - 36) <= MAX_NOISE
