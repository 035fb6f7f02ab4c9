"""Support figures for scrutiny: supports started and ended by kind and provider, the wait
from request to start by provider (median and 90th percentile), contacts by engagement, and
the risk level at start against at end; exact for the council's analyst, protected for
everyone else (counts of 1 to 5 are `c`; a wait is shown only for groups of more than 5, its
90th percentile only for 10 or more, rounded to whole weeks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from referral_scenarios import bearer, child_details
from support_scenarios import (
    ANALYST,
    HUB_WORKER,
    KEYWORKER,
    YOUNG_CARERS_WORKER,
    at,
    deliver,
    end,
    offer,
    read,
    record_contact,
    risk_assessed,
    start,
)

STARTED = at("2026-10-20T15:00:00+00:00")
WAITING = "/api/v1/stats/support/waiting-times?period=2026-10"
POST_ABUSE_WAITS = [5, 8, 10, 12, 14, 15, 16, 20, 25, 30, 45]
YOUTH_WAITS = [2, 4, 6, 8, 10, 12]


def new_child(client, tokens, n: int) -> str:
    answer = client.post(
        "/api/v1/children", json=child_details(given_name=f"Child{n}"), headers=bearer(tokens, HUB_WORKER)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def started_support(
    client, tokens, n: int, wait_days: int, service: str = "post-abuse-support", kind: str = "advocacy"
) -> dict[str, Any]:
    """A support of a new child requested ``wait_days`` before it started on 20 October 2026."""
    body = {
        "kind": kind,
        "provider": {"service": service},
        "requested_at": (STARTED - timedelta(days=wait_days)).isoformat(),
    }
    offered = offer(client, tokens, new_child(client, tokens, n), body)
    assert offered.status_code == 201, offered.text
    started = start(client, tokens, offered.json(), STARTED.isoformat(), HUB_WORKER)
    assert started.status_code == 200, started.text
    return dict(started.json())


def figures(client, tokens, path: str, who: dict[str, Any] = ANALYST) -> dict[str, Any]:
    answer = read(client, tokens, path, who)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def by_provider(body: dict[str, Any], provider: str) -> dict[str, Any]:
    [group] = [g for g in body["providers"] if g["provider"] == provider]
    return group


def test_waiting_times_are_exact_for_the_analyst_and_rounded_to_weeks_for_large_groups_only(
    client, tokens, support_clock
):
    support_clock.now = at("2026-10-21T09:00:00+00:00")
    for n, wait in enumerate(POST_ABUSE_WAITS):
        started_support(client, tokens, n, wait)
    for n, wait in enumerate(YOUTH_WAITS, start=100):
        started_support(client, tokens, n, wait, service="community-youth-team", kind="group_work")

    exact = figures(client, tokens, WAITING)
    assert (exact["exact"], exact["rounded_to_days"]) == (True, 1)
    post_abuse, youth = by_provider(exact, "post-abuse-support"), by_provider(exact, "community-youth-team")
    assert (post_abuse["started"]["count"], post_abuse["median_days"], post_abuse["p90_days"]) == (11, 15, 30)
    assert (youth["started"]["count"], youth["median_days"], youth["p90_days"]) == (6, 6, 12)
    assert (exact["all_providers"]["started"]["count"], exact["all_providers"]["median_days"]) == (17, 12)
    assert by_provider(exact, "early-help") == {
        "provider": "early-help",
        "started": {"key": {"provider": "early-help"}, "count": 0, "suppressed": None, "display": "0"},
        "median_days": None,
        "p90_days": None,
    }

    protected = figures(client, tokens, WAITING, HUB_WORKER)
    assert (protected["exact"], protected["rounded_to_days"]) == (False, 7)
    post_abuse, youth = (
        by_provider(protected, "post-abuse-support"),
        by_provider(protected, "community-youth-team"),
    )
    assert abs(post_abuse["started"]["count"] - 11) <= 2
    assert (post_abuse["median_days"], post_abuse["p90_days"]) == (14, 28)  # 15 and 30 to whole weeks
    # Six is enough for a median (to the week), not for a 90th percentile (it would be the longest wait).
    assert (youth["median_days"], youth["p90_days"]) == (7, None)
    assert (protected["all_providers"]["median_days"], protected["all_providers"]["p90_days"]) == (14, 28)
    assert "rounded to the nearest 7 days" in protected["note"]


def test_starts_and_ends_by_kind_and_provider_every_category_listed(client, tokens, support_clock):
    support_clock.now = at("2026-10-21T09:00:00+00:00")
    first = started_support(client, tokens, 1, 10, kind="therapeutic_post_abuse_support")
    started_support(client, tokens, 2, 12, kind="therapeutic_post_abuse_support")
    started_support(client, tokens, 3, 3, service="community-youth-team", kind="group_work")
    support_clock.now = at("2026-11-10T09:00:00+00:00")
    assert (
        end(client, tokens, first, "2026-11-09T12:00:00+00:00", "disengaged", HUB_WORKER).status_code == 200
    )

    started = figures(
        client, tokens, "/api/v1/stats/support?measure=started&group_by=kind&group_by=provider&period=2026-10"
    )
    assert started["dimensions"] == ["kind", "provider"]
    counts = {(c["key"]["kind"], c["key"]["provider"]): c["count"] for c in started["cells"]}
    assert counts[("therapeutic_post_abuse_support", "post-abuse-support")] == 2
    assert counts[("group_work", "community-youth-team")] == 1
    assert sum(counts.values()) == 3
    kinds = {c["key"]["kind"] for c in started["cells"]}
    providers = [t["key"]["provider"] for t in started["column_totals"]]
    assert len(kinds) == 9
    assert providers[:6] == [
        "community-youth-team",
        "early-help",
        "post-abuse-support",
        "sexual-health-service",
        "missing-advocates",
        "school-inclusion",
    ]
    assert {"safe-space-sheffield", "school-*", "other"} <= set(providers)

    ended = figures(client, tokens, "/api/v1/stats/support?measure=ended&group_by=end_reason&period=2026-11")
    assert {c["key"]["end_reason"]: c["count"] for c in ended["cells"]}["disengaged"] == 1
    assert ended["total"]["count"] == 1
    # Protected: a single end is c.
    protected = figures(
        client, tokens, "/api/v1/stats/support?measure=ended&group_by=end_reason&period=2026-11", HUB_WORKER
    )
    assert protected["total"]["display"] == "c"


def test_an_end_reason_of_starts_or_one_dimension_twice_is_422(client, tokens):
    for query in ("measure=started&group_by=end_reason", "measure=ended&group_by=kind&group_by=kind"):
        refused = read(client, tokens, f"/api/v1/stats/support?{query}", ANALYST)
        assert refused.status_code == 422, query
        assert refused.json()["type"].endswith("invalid-range")


def test_contacts_by_engagement_and_setting(client, tokens, support_clock):
    support_clock.now = at("2026-10-21T09:00:00+00:00")
    support = started_support(client, tokens, 1, 5, kind="therapeutic_post_abuse_support")
    support_clock.now = at("2026-11-20T09:00:00+00:00")
    for day, setting, engagement in (
        ("2026-10-27", "secure_unit", "engaged"),
        ("2026-11-03", "secure_unit", "partly_engaged"),
        ("2026-11-10", "community_venue", "did_not_attend"),
    ):
        answer = record_contact(
            client, tokens, support, KEYWORKER, contacted_on=day, setting=setting, engagement=engagement
        )
        assert answer.status_code == 201, answer.text

    table = figures(
        client, tokens, "/api/v1/stats/support/contacts?group_by=engagement&group_by=setting&period=2026-11"
    )
    counts = {(c["key"]["engagement"], c["key"]["setting"]): c["count"] for c in table["cells"]}
    assert counts[("partly_engaged", "secure_unit")] == 1
    assert counts[("did_not_attend", "community_venue")] == 1
    assert sum(counts.values()) == 2  # the October contact is another month's
    assert [t["key"]["engagement"] for t in table["row_totals"]] == [
        "engaged",
        "partly_engaged",
        "not_engaged",
        "did_not_attend",
    ]


def test_risk_level_at_start_against_at_end_lists_every_level_and_not_assessed(client, tokens, support_clock):
    support_clock.now = at("2026-10-21T09:00:00+00:00")
    assessed = started_support(client, tokens, 1, 5)
    never_assessed = started_support(client, tokens, 2, 5)
    assert deliver(client, risk_assessed(assessed["child_id"], "high", "2026-10-01T12:00:00+00:00")) == 204
    assert deliver(client, risk_assessed(assessed["child_id"], "low", "2026-11-01T12:00:00+00:00")) == 204
    support_clock.now = at("2026-11-10T09:00:00+00:00")
    for support in (assessed, never_assessed):
        current = read(client, tokens, f"/api/v1/support/{support['id']}", HUB_WORKER).json()
        assert (
            end(client, tokens, current, "2026-11-09T12:00:00+00:00", "goals_met", HUB_WORKER).status_code
            == 200
        )

    table = figures(client, tokens, "/api/v1/stats/support/risk-movement?period=2026-11")
    counts = {
        (c["key"]["risk_level_at_start"], c["key"]["risk_level_at_end"]): c["count"] for c in table["cells"]
    }
    assert len(counts) == 16
    assert counts[("high", "low")] == 1
    assert counts[("not_assessed", "not_assessed")] == 1
    assert sum(counts.values()) == 2


def test_a_support_started_this_month_is_not_yet_in_protected_figures(client, tokens):
    child = new_child(client, tokens, 1)
    offered = offer(client, tokens, child).json()
    assert start(client, tokens, offered, offered["requested_at"], HUB_WORKER).status_code == 200
    exact = figures(client, tokens, "/api/v1/stats/support/waiting-times")
    protected = figures(client, tokens, "/api/v1/stats/support/waiting-times", HUB_WORKER)
    assert exact["all_providers"]["started"]["count"] == 1
    assert protected["all_providers"]["started"]["count"] == 0


def test_any_partners_case_worker_reads_protected_figures_and_no_one_reads_them_anonymously(client, tokens):
    partner = figures(client, tokens, WAITING, YOUNG_CARERS_WORKER)
    assert partner["exact"] is False
    assert client.get(WAITING).status_code == 401
