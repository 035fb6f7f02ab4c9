"""Statutory clocks: a referral decision within 1 working day, a return-home
interview within 72 hours of a missing child being found.

Working days skip weekends and England and Wales bank holidays (from the
``holidays`` package), counted in Europe/London time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
RETURN_HOME_INTERVIEW_WINDOW = timedelta(hours=72)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same London wall-clock time ``days`` working days after ``start``
    (a start on a weekend or holiday counts from the next working day)."""
    local = start.astimezone(LONDON)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    due_local = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LONDON)
    return due_local.astimezone(start.tzinfo)


def referral_decision_due(received_at: datetime) -> datetime:
    """When a decision on a referral received at ``received_at`` falls due."""
    return add_working_days(received_at, 1)


def return_home_interview_due(found_at: datetime) -> datetime:
    """72 hours (elapsed) after the child was found."""
    return found_at + RETURN_HOME_INTERVIEW_WINDOW
