"""An attacker with a partner's ordinary figure rights tries to recover a count from 1 to
5 (or a single child's attributes) by comparing figures: window differencing, nested
periods, margins against cross-tabulations, categories against their complement, and
arrivals over time. Every attempt must fail, allowing the attacker the published scheme:
a shown count is within MAX_NOISE of the truth (and 0 or above 5), `c` (primary) is 1-5.

The suite owns financial year 2015-16: it loads its referrals there through the
migration path, so it knows the truth of every cell it attacks. Each test says how many
queries and comparisons it tried.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from safeguarding_kit.disclosure import MAX_NOISE

pytestmark = pytest.mark.e2e

YEAR = "2015-16"
ADMINISTRATOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
ATTACKER = {
    "agency": "st-examples-church",
    "agency_type": "voluntary",
    "roles": ["referrer"],
    "sub": "attacker",
}
EXACT = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
DIMENSIONS = ["gender", "ethnicity", "looked_after", "age_band", "outcome", "source_agency_type"]
MONTHS = [f"2015-{m:02d}" for m in range(4, 13)] + [f"2016-{m:02d}" for m in range(1, 4)]
QUARTERS = [f"{YEAR}-Q{q}" for q in range(1, 5)]

# The suite's referrals: (month, gender, ethnicity, looked after, outcome). Most are
# ordinary; a few are the only one of their kind in their month or the year.
POPULATION = (
    [("2015-04", "female", "white_british", False, "allocated")] * 7
    + [("2015-05", "male", "white_british", False, "no_further_action")] * 6
    + [("2015-06", "female", "white_british", True, "signposted")] * 4
    + [("2015-07", "female", "mixed_white_and_black_caribbean", False, "allocated")] * 3
    + [("2015-09", "male", "white_british", False, "allocated")] * 7
    + [("2015-11", "female", "white_british", False, "no_further_action")] * 8
    + [("2016-01", "male", "asian_pakistani", True, "signposted")] * 2
    + [("2016-02", "female", "white_roma", False, "allocated")]  # the one child the attacker hunts
    + [("2016-03", "female", "white_british", False, "allocated")] * 6
)
TARGET = ("2016-02", "female", "white_roma", False, "allocated")


def value_of(row: tuple[str, str, str, bool, str], dimension: str) -> str:
    month, gender, ethnicity, looked_after, outcome = row
    return {
        "gender": gender,
        "ethnicity": ethnicity,
        "looked_after": "looked_after" if looked_after else "not_looked_after",
        "age_band": "14-16",
        "outcome": outcome,
        "source_agency_type": "education",
        "month": month,
    }[dimension]


def truth(rows: list[tuple[str, str, str, bool, str]], **where: str) -> int:
    return sum(1 for row in rows if all(value_of(row, d) == v for d, v in where.items()))


@dataclass
class Interval:
    """What the attacker can say of a true count from what was published."""

    low: int
    high: int | None  # None: unbounded

    @classmethod
    def of(cls, cell: dict[str, Any]) -> Interval:
        if cell["suppressed"] == "primary":
            return cls(1, 5)
        if cell["suppressed"] == "secondary":
            return cls(1, None)
        shown = cell["count"]
        if shown == 0:
            return cls(0, 0)
        return cls(max(6, shown - MAX_NOISE), shown + MAX_NOISE)

    def minus(self, other: Interval) -> Interval:
        low = self.low - (other.high if other.high is not None else 10**9)
        high = None if self.high is None else self.high - other.low
        return Interval(low, high)

    def meet(self, other: Interval) -> Interval:
        highs = [h for h in (self.high, other.high) if h is not None]
        return Interval(max(self.low, other.low), min(highs) if highs else None)

    def pins(self) -> int | None:
        """The one value this leaves, if it leaves one from 1 to 5."""
        if self.high is not None and self.low == self.high and 1 <= self.low <= 5:
            return self.low
        return None


@dataclass
class Attacker:
    gateway: httpx.Client
    headers: dict[str, str]
    queries: int = 0
    comparisons: int = 0
    recovered: list[str] = field(default_factory=list)
    cache: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)

    def figures(self, path: str = "/api/v1/stats/referrals", **params: Any) -> httpx.Response:
        self.queries += 1
        return self.gateway.get(path, params=params, headers=self.headers)

    def table(self, **params: Any) -> dict[str, Any]:
        key = tuple(sorted((k, str(v)) for k, v in params.items()))
        if key not in self.cache:
            answer = self.figures(**params)
            assert answer.status_code == 200, answer.text
            assert answer.json()["exact"] is False
            self.cache[key] = answer.json()
        return self.cache[key]

    def compare(self, what: str, derived: Interval, own: Interval, true_value: int) -> None:
        """One comparison: ``derived`` from other figures, met with the cell's own."""
        self.comparisons += 1
        pinned = derived.meet(own).pins()
        if pinned is not None:
            assert pinned == true_value, f"{what}: the intervals are wrong"  # the scheme's bound holds
            self.recovered.append(what)

    def report(self, attack: str) -> None:
        recovered = len(self.recovered)
        print(f"{attack}: {self.queries} queries, {self.comparisons} comparisons, {recovered} recovered")
        assert self.recovered == [], f"{attack} recovered: {self.recovered}"


def cell(table: dict[str, Any], **key: str) -> dict[str, Any]:
    for candidate in table["cells"]:
        if candidate["key"] == key:
            return candidate
    raise AssertionError(f"no cell {key} in {table['dimensions']}: every category must be listed")


def row_total(table: dict[str, Any], **key: str) -> dict[str, Any]:
    return next(t for t in table["row_totals"] if t["key"] == key)


@pytest.fixture(scope="module")
def population(stack, stack_tokens) -> list[tuple[str, str, str, bool, str]]:
    prefix = f"ATTACK-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=stack.config.gateway_url, timeout=30) as gateway:
        for i, (month, gender, ethnicity, looked_after, outcome) in enumerate(POPULATION):
            year = int(month.split("-")[0])
            decision: dict[str, Any] = {
                "outcome": outcome,
                "decided_at": f"{month}-{2 + i % 20:02d}T15:00:00+00:00",
            }
            if outcome == "allocated":
                decision |= {
                    "allocated_team": "Exploitation Team",
                    "allocated_agency": "sheffield-social-care",
                }
            elif outcome == "signposted":
                decision |= {"signposted_to": "community-youth-team"}
            else:
                decision |= {"decision_reason": "No exploitation indicators after checks."}
            answer = gateway.post(
                "/api/v1/referrals/migrated",
                headers=stack_tokens.headers(**ADMINISTRATOR),
                json={
                    "source_reference": f"{prefix}-{i:03d}",
                    "source_agency": "sheffield-schools",
                    "received_at": f"{month}-{1 + i % 20:02d}T10:00:00+00:00",
                    "child": {
                        "given_name": f"Attack{i}",
                        "family_name": f"Target{prefix.replace('-', '')}",
                        "date_of_birth": date(year - 15, 1 + i % 12, 1 + i % 27).isoformat(),
                        "gender": gender,
                        "ethnicity": ethnicity,
                        "looked_after": looked_after,
                    },
                    "concern_types": ["sexual_exploitation"],
                    "summary": "Loaded for the attacker's suite.",
                    "lawful_basis": {"basis": "consent"},
                    **decision,
                },
            )
            assert answer.status_code == 201, answer.text
    return list(POPULATION)


@pytest.fixture
def attacker(stack, stack_tokens) -> Any:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=30) as gateway:
        yield Attacker(gateway, stack_tokens.headers(**ATTACKER))


def test_windows_finer_than_a_month_are_refused_so_no_window_slides_across_one_referral(population, attacker):
    received = "2016-02-01T10:00:00+00:00"  # the target's receipt time (a referrer could know it)
    for start, end in (
        ("2016-02-01T09:59:59.999999+00:00", "2016-02-01T10:00:00.000001+00:00"),
        ("2016-02-01", "2016-02-02"),
        ("2016-02-01T00:00:00+00:00", received),
        (received, "2016-03-01"),
        ("2016-01-15", "2016-03-01"),
    ):
        answer = attacker.figures(group_by=["gender"], **{"from": start, "to": end})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["parameter"] in ("from", "to")
    # Month-aligned windows differ by whole months: February alone, and February as the
    # difference of two windows ending either side of it.
    for dimension in DIMENSIONS:
        february = attacker.table(group_by=[dimension], **{"from": "2016-02-01", "to": "2016-03-01"})
        to_march = attacker.table(group_by=[dimension], **{"from": "2016-01-01", "to": "2016-03-01"})
        january = attacker.table(group_by=[dimension], **{"from": "2016-01-01", "to": "2016-02-01"})
        for value in {c["key"][dimension] for c in february["cells"]}:
            true_value = truth([r for r in population if r[0] == "2016-02"], **{dimension: value})
            derived = Interval.of(cell(to_march, **{dimension: value})).minus(
                Interval.of(cell(january, **{dimension: value}))
            )
            attacker.compare(
                f"February {dimension}={value}",
                derived,
                Interval.of(cell(february, **{dimension: value})),
                true_value,
            )
    attacker.report("window differencing")


def test_months_against_their_quarter_and_the_year_recover_nothing(population, attacker):
    for dimension in DIMENSIONS:
        year = attacker.table(group_by=[dimension], period=YEAR)
        months = {m: attacker.table(group_by=[dimension], period=m) for m in MONTHS}
        quarters = {q: attacker.table(group_by=[dimension], period=q) for q in QUARTERS}
        values = [c["key"][dimension] for c in year["cells"]]
        for value in values:
            for month in MONTHS:
                true_value = truth([r for r in population if r[0] == month], **{dimension: value})
                others = [m for m in MONTHS if m != month]
                derived = Interval.of(cell(year, **{dimension: value}))
                for other in others:
                    derived = derived.minus(Interval.of(cell(months[other], **{dimension: value})))
                own = Interval.of(cell(months[month], **{dimension: value}))
                attacker.compare(f"{month} {dimension}={value} from the year", derived, own, true_value)
                quarter = QUARTERS[MONTHS.index(month) // 3]
                siblings = [
                    m
                    for m in MONTHS[3 * QUARTERS.index(quarter) : 3 * QUARTERS.index(quarter) + 3]
                    if m != month
                ]
                derived = Interval.of(cell(quarters[quarter], **{dimension: value}))
                for sibling in siblings:
                    derived = derived.minus(Interval.of(cell(months[sibling], **{dimension: value})))
                attacker.compare(f"{month} {dimension}={value} from its quarter", derived, own, true_value)
    attacker.report("nested periods")


def test_margins_against_cross_tabulations_and_categories_against_their_complement_recover_nothing(
    population, attacker
):
    for first in DIMENSIONS:
        margin = attacker.table(group_by=[first], period=YEAR)
        total = Interval.of(margin["total"])
        values = [c["key"][first] for c in margin["cells"]]
        for value in values:  # a category against the total less every other category
            derived = total
            for other in values:
                if other != value:
                    derived = derived.minus(Interval.of(cell(margin, **{first: other})))
            attacker.compare(
                f"{first}={value} as a complement",
                derived,
                Interval.of(cell(margin, **{first: value})),
                truth(population, **{first: value}),
            )
        for second in DIMENSIONS:
            if second == first:
                continue
            cross = attacker.table(group_by=[first, second], period=YEAR)
            seconds = sorted({c["key"][second] for c in cross["cells"]})
            for value in values:
                for target in seconds:
                    derived = Interval.of(cell(margin, **{first: value}))
                    for other in seconds:
                        if other != target:
                            derived = derived.minus(Interval.of(cell(cross, **{first: value, second: other})))
                    own = Interval.of(cell(cross, **{first: value, second: target}))
                    true_value = truth(population, **{first: value, second: target})
                    attacker.compare(
                        f"{first}={value} x {second}={target} from the margin", derived, own, true_value
                    )
    attacker.report("margins and complements")


def test_a_category_appears_whether_or_not_anyone_is_in_it(population, attacker):
    """The one Roma girl in February: her month's table lists every ethnicity, zeros
    included, and shows hers as `c` like any count from 1 to 5, so the listing itself
    says nothing of who was referred."""
    february = attacker.table(group_by=["ethnicity"], period="2016-02")
    march = attacker.table(group_by=["ethnicity"], period="2016-03")
    assert [c["key"] for c in february["cells"]] == [c["key"] for c in march["cells"]]
    assert cell(february, ethnicity="white_roma")["display"] == "c"
    assert cell(march, ethnicity="white_roma")["display"] == "0"
    attacker.report("presence of a category")


FIGURES = [
    ("/api/v1/stats/referrals", {"group_by": ["gender", "ethnicity"]}),
    ("/api/v1/stats/referrals", {"group_by": ["outcome"]}),
    ("/api/v1/stats/timeliness", {}),
    ("/api/v1/stats/places-of-concern", {}),
    ("/api/v1/risk/stats/levels", {}),
    ("/api/v1/risk/stats/movements", {}),
    ("/api/v1/risk/stats/assessments-per-child", {}),
    ("/api/v1/meetings/stats/actions", {}),
    ("/api/v1/stats/support", {"measure": "started", "group_by": ["kind", "provider"]}),
    ("/api/v1/stats/support", {"measure": "ended", "group_by": ["end_reason"]}),
    ("/api/v1/stats/support/waiting-times", {}),
    ("/api/v1/stats/support/contacts", {"group_by": ["engagement"]}),
    ("/api/v1/stats/support/risk-movement", {}),
    ("/api/v1/stats/disruption", {}),
]


def snapshot(attacker: Attacker) -> list[tuple[str, str]]:
    taken = []
    for path, params in FIGURES:
        answer = attacker.figures(path, **params)
        assert answer.status_code == 200, f"{path}: {answer.text}"
        taken.append((answer.headers["etag"], answer.text))
    return taken


def test_one_new_referral_and_assessment_change_no_partners_figure_this_month(stack, stack_tokens, attacker):
    """Arrivals over time: the attacker reads every figure of the open year, one referral
    arrives (and the risk service opens its screening; a case worker assesses the child),
    and the attacker reads again. Nothing moved: an open period is counted to the start of
    the month. The exact analyst sees the referral at once."""
    exact = stack_tokens.headers(**EXACT)
    before_exact = attacker.gateway.get(
        "/api/v1/stats/referrals", params={"group_by": ["gender"]}, headers=exact
    )
    before = snapshot(attacker)
    school = stack_tokens.headers(agency="sheffield-schools", agency_type="education", roles=["referrer"])
    made = attacker.gateway.post(
        "/api/v1/referrals",
        headers=school,
        json={
            "child": {
                "given_name": "Arrival",
                "family_name": f"Over{uuid.uuid4().hex[:6]}",
                "date_of_birth": "2011-08-08",
                "gender": "female",
                "ethnicity": "white_roma",
            },
            "referrer": {"name": "Sam Teacher", "role": "DSL"},
            "concern_types": ["sexual_exploitation"],
            "summary": "Seen with older men at the bus station.",
            "lawful_basis": {"basis": "consent"},
        },
    )
    assert made.status_code == 201, made.text
    # The hub offers the child post-abuse support and the commissioned service starts it today.
    hub = stack_tokens.headers(
        agency="sheffield-social-care", agency_type="social_care", roles=["practitioner"]
    )
    support = attacker.gateway.post(
        f"/api/v1/children/{made.json()['child_id']}/support",
        headers={**hub, "Idempotency-Key": str(uuid.uuid4())},
        json={"kind": "therapeutic_post_abuse_support", "provider": {"service": "post-abuse-support"}},
    )
    assert support.status_code == 201, support.text
    keyworker = stack_tokens.headers(
        agency="safe-space-sheffield", agency_type="voluntary", roles=["practitioner"]
    )
    started = attacker.gateway.post(
        f"/api/v1/support/{support.json()['id']}/start",
        headers={**keyworker, "If-Match": support.headers["etag"]},
        json={"started_at": datetime.now(UTC).isoformat()},
    )
    assert started.status_code == 200, started.text
    after = snapshot(attacker)
    assert after == before, "a partner's figures moved with one new referral and one support"
    after_exact = attacker.gateway.get(
        "/api/v1/stats/referrals", params={"group_by": ["gender"]}, headers=exact
    )
    total = Counter(
        {"before": before_exact.json()["total"]["count"], "after": after_exact.json()["total"]["count"]}
    )
    assert total["after"] == total["before"] + 1
    attacker.report("arrivals over time")
