"""Working days in England and Wales: weekends and bank holidays (from the
``holidays`` package) skipped, counted in Europe/London time. The statutory clocks
of every service are built on these."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def bank_holiday_name(day: date) -> str | None:
    """The England and Wales bank holiday on ``day``, if it is one."""
    name = _bank_holidays(day.year).get(day)
    return str(name) if name else None


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _working_day_after(day: date, days: int) -> date:
    """The ``days``-th working day after ``day`` (``day`` itself never counts)."""
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def end_of_working_days_after(start: datetime, days: int) -> datetime:
    """When the ``days``-th working day after ``start``'s London day ends: midnight in
    London at the start of the day after it (so a deadline met "by" this instant is met
    within that working day). A start on a weekend or holiday counts from the next
    working day, whatever its time of day."""
    last = _working_day_after(start.astimezone(LONDON).date(), days)
    # Midnight always exists in London: the clocks change at 01:00 and 02:00.
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(start.tzinfo)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same London wall-clock time ``days`` working days after ``start``
    (a start on a weekend or holiday counts from the next working day)."""
    local = start.astimezone(LONDON)
    day = _working_day_after(local.date(), days)
    due_local = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LONDON)
    return due_local.astimezone(start.tzinfo)
