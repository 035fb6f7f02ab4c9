"""The rules of a support as plain functions: its status and the steps that may follow,
the dates that are possible, the waiting time in days in England, and the child's risk
level at an instant from the assessments heard of."""

from __future__ import annotations

from datetime import date

import pytest
from support_scenarios import at

from referral_api.stats.support import nearest_rank
from referral_api.support.models import EndReason, RiskLevel
from referral_api.support.rules import (
    Refusal,
    Step,
    SupportStatus,
    contact_refusal,
    end_refusal,
    level_at,
    start_refusal,
    status_of,
    step_refusal,
    waiting_days,
)

REQUESTED = at("2026-10-01T09:30:00+00:00")
STARTED = at("2026-10-20T15:00:00+00:00")
ENDED = at("2026-11-28T16:00:00+00:00")
NOW = at("2026-12-06T10:00:00+00:00")


def test_a_support_is_offered_then_active_then_ended():
    assert status_of(None, None) is SupportStatus.offered
    assert status_of(STARTED, None) is SupportStatus.active
    assert status_of(STARTED, ENDED) is SupportStatus.ended
    assert status_of(None, ENDED) is SupportStatus.ended  # an offer turned down


@pytest.mark.parametrize(
    ("step", "started", "ended", "allowed"),
    [
        (Step.start, None, None, True),
        (Step.start, STARTED, None, False),
        (Step.start, None, ENDED, False),
        (Step.end, None, None, True),
        (Step.end, STARTED, None, True),
        (Step.end, STARTED, ENDED, False),
        (Step.record_contact, None, None, False),
        (Step.record_contact, STARTED, None, True),
        (Step.record_contact, STARTED, ENDED, True),  # notes written up after the end
        (Step.record_contact, None, ENDED, False),
    ],
)
def test_which_step_may_follow(step, started, ended, allowed):
    assert (step_refusal(step, started, ended) is None) is allowed


def test_a_start_is_neither_before_the_request_nor_in_the_future():
    assert start_refusal(REQUESTED, STARTED, NOW) is None
    assert start_refusal(REQUESTED, at("2026-09-30T09:00:00+00:00"), NOW) == Refusal(
        "started_at", "A support cannot start before it was requested."
    )
    assert start_refusal(REQUESTED, at("2026-12-07T09:00:00+00:00"), NOW).field == "started_at"


def test_an_end_follows_the_start_and_only_a_started_support_meets_its_goals():
    assert end_refusal(REQUESTED, STARTED, ENDED, EndReason.goals_met, NOW) is None
    assert (
        end_refusal(REQUESTED, STARTED, at("2026-10-19T09:00:00+00:00"), EndReason.other, NOW).field
        == "ended_at"
    )
    assert end_refusal(REQUESTED, None, ENDED, EndReason.child_declined, NOW) is None
    assert end_refusal(REQUESTED, None, ENDED, EndReason.goals_met, NOW).field == "reason"
    assert (
        end_refusal(REQUESTED, STARTED, at("2026-12-07T09:00:00+00:00"), EndReason.other, NOW).field
        == "ended_at"
    )


def test_a_contact_falls_between_the_start_and_the_end_or_today():
    today = date(2026, 12, 6)
    assert contact_refusal(date(2026, 10, 20), STARTED, None, today) is None
    assert contact_refusal(date(2026, 12, 6), STARTED, None, today) is None
    assert contact_refusal(date(2026, 10, 19), STARTED, None, today) is not None
    assert contact_refusal(date(2026, 12, 7), STARTED, None, today) is not None
    assert contact_refusal(date(2026, 11, 29), STARTED, ENDED, today) is not None


def test_the_wait_is_counted_in_calendar_days_in_england():
    assert waiting_days(REQUESTED, STARTED) == 19
    # 23:30 UTC on 30 September is already 1 October in England (summer time).
    assert waiting_days(at("2026-09-30T23:30:00+00:00"), at("2026-10-01T08:00:00+00:00")) == 0
    # Across the change to winter time (25 October 2026) a day is still a day.
    assert waiting_days(at("2026-10-24T12:00:00+00:00"), at("2026-10-26T12:00:00+00:00")) == 2


def test_the_level_at_an_instant_is_the_latest_assessment_at_or_before_it():
    levels = [
        (at("2026-09-30T12:00:00+00:00"), RiskLevel.high),
        (at("2026-11-15T10:00:00+00:00"), RiskLevel.medium),
    ]
    assert level_at(levels, at("2026-09-30T11:59:00+00:00")) is None
    assert level_at(levels, at("2026-09-30T12:00:00+00:00")) is RiskLevel.high
    assert level_at(levels, STARTED) is RiskLevel.high
    assert level_at(levels, ENDED) is RiskLevel.medium
    assert level_at(reversed(levels), ENDED) is RiskLevel.medium  # in whatever order they arrived


def test_percentiles_are_by_nearest_rank():
    waits = [3, 7, 10, 14, 19, 21, 28, 35, 42, 60]
    assert nearest_rank(waits, 0.5) == 19
    assert nearest_rank(waits, 0.9) == 42  # the 9th of 10: never the longest wait
    assert nearest_rank([19], 0.9) == 19
    assert nearest_rank([], 0.5) is None
