"""The statutory clocks of the referral service."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from referral_api.missing_episodes.clock import return_home_interview_due
from referral_api.referrals.clock import referral_decision_due

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 11, 20, 15, 0), datetime(2026, 11, 23, 15, 0)),  # Friday -> Monday
        (datetime(2026, 8, 28, 9, 0), datetime(2026, 9, 1, 9, 0)),  # before the late summer bank holiday
        (datetime(2026, 11, 21, 10, 0), datetime(2026, 11, 23, 10, 0)),  # Saturday -> Monday
        (datetime(2026, 12, 24, 16, 0), datetime(2026, 12, 29, 16, 0)),  # Christmas and Boxing Day (observed)
    ],
)
def test_a_decision_is_due_one_working_day_after_receipt(received, due):
    assert referral_decision_due(received.replace(tzinfo=LONDON)) == due.replace(tzinfo=LONDON)


def test_a_return_home_interview_is_due_72_hours_after_the_child_is_found():
    found = datetime(2026, 10, 9, 18, 0, tzinfo=LONDON)
    assert return_home_interview_due(found) == datetime(2026, 10, 12, 18, 0, tzinfo=LONDON)
