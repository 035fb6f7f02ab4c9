"""The statutory clocks of the referral service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from referral_api.missing_episodes.clock import return_home_interview_due
from referral_api.referrals.clock import referral_decision_due

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Due by the end of the next working day, that is by midnight starting the day after it.
        (datetime(2026, 11, 22, 4, 22), datetime(2026, 11, 24, 0, 0)),  # Sunday 04:22 -> end of Monday
        (datetime(2026, 11, 20, 15, 0), datetime(2026, 11, 24, 0, 0)),  # Friday -> end of Monday
        (datetime(2026, 11, 21, 10, 0), datetime(2026, 11, 24, 0, 0)),  # Saturday -> end of Monday
        (datetime(2026, 11, 23, 0, 0), datetime(2026, 11, 25, 0, 0)),  # Monday midnight -> end of Tuesday
        (datetime(2026, 11, 23, 23, 59), datetime(2026, 11, 25, 0, 0)),  # late Monday -> end of Tuesday
        (
            datetime(2026, 8, 28, 10, 0),
            datetime(2026, 9, 2, 0, 0),
        ),  # Friday, bank holiday Monday -> end of Tuesday
        (datetime(2026, 12, 24, 16, 0), datetime(2026, 12, 30, 0, 0)),  # Christmas and Boxing Day (observed)
        (datetime(2026, 10, 23, 9, 0), datetime(2026, 10, 27, 0, 0)),  # across the October clock change
        (datetime(2026, 3, 27, 9, 0), datetime(2026, 3, 31, 0, 0)),  # across the March clock change
    ],
)
def test_a_decision_is_due_by_the_end_of_the_next_working_day_in_england(received, due):
    assert referral_decision_due(received.replace(tzinfo=LONDON)) == due.replace(tzinfo=LONDON)


def test_the_working_day_is_the_day_in_london_not_in_utc():
    # 23:30 UTC on Monday 1 June is 00:30 on Tuesday in London (BST): due by the end of Wednesday.
    received = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert referral_decision_due(received) == datetime(2026, 6, 4, 0, 0, tzinfo=LONDON)
    assert referral_decision_due(received).utcoffset() == timedelta(0)  # answered in the caller's zone


def test_a_return_home_interview_is_due_72_hours_after_the_child_is_found():
    found = datetime(2026, 10, 9, 18, 0, tzinfo=LONDON)
    assert return_home_interview_due(found) == datetime(2026, 10, 12, 18, 0, tzinfo=LONDON)
