"""The periods councils report in, and the window a figure request covers.

Days are days in England (Europe/London). Financial years run April to March
(``2025-26``; quarters ``2025-26-Q1`` = April to June ... ``2025-26-Q4`` = January to
March); calendar years (``2025``), calendar quarters (``2025-Q3``) and months
(``2025-11``) are named too.

Disclosure control needs the windows to be few and fixed: callers without exact figures
get whole months only (a named period, or ``from``/``to`` on the first of a month), and a
period still open counts only what was received before the start of the current month,
so the figures change once a month and never show a single arrival.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, WithJsonSchema

REPORTING_ZONE = ZoneInfo("Europe/London")
MAX_SPAN = timedelta(days=3653)

_FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_FINANCIAL_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
_CALENDAR_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")

PERIOD_HELP = (
    "A reporting period: a financial year `2025-26`, a financial quarter `2025-26-Q1` "
    "(April to June), a calendar year `2025`, a calendar quarter `2025-Q3` or a month `2025-11`."
)


class InvalidPeriod(ValueError):
    """The text names no reporting period, or a window not allowed; the message says why."""


def england_midnight(day: date) -> datetime:
    """The instant (UTC) a day in England starts."""
    return datetime.combine(day, time(0), tzinfo=REPORTING_ZONE).astimezone(UTC)


def england_day(instant: datetime) -> date:
    """The date in England of an aware instant."""
    return instant.astimezone(REPORTING_ZONE).date()


def _day_or_instant(value: object) -> object:
    """A plain date (``2025-04-01``) as the instant that day starts in England; anything
    else is left for the aware-datetime check (a time without its offset is refused)."""
    if isinstance(value, str) and "t" not in value.lower():
        return england_midnight(date.fromisoformat(value.strip()))
    if isinstance(value, date) and not isinstance(value, datetime):
        return england_midnight(value)
    return value


DayOrInstant = Annotated[
    AwareDatetime,
    BeforeValidator(_day_or_instant),
    AfterValidator(lambda value: value.astimezone(UTC)),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "description": "A date (the day as it starts in England) or a time with its offset.",
        }
    ),
]
"""A date filter: a plain date or a time with its offset, held in UTC."""


def financial_year_of(day: date) -> str:
    """``2025-26`` for any day from 1 April 2025 to 31 March 2026."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def financial_quarter_of(day: date) -> str:
    """``2025-26-Q1`` for April to June 2025 ... ``2025-26-Q4`` for January to March 2026."""
    return f"{financial_year_of(day)}-Q{((day.month - 4) % 12) // 3 + 1}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """A named span of whole days in England: [first_day, end_day)."""

    label: str
    first_day: date
    end_day: date  # the day after the last

    @property
    def start(self) -> datetime:
        return england_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return england_midnight(self.end_day)


def parse_period(text: str) -> Period:
    """The period ``text`` names, or :class:`InvalidPeriod`."""
    if m := _FINANCIAL_QUARTER.match(text):
        start_year, short, quarter = int(m[1]), int(m[2]), int(m[3])
        if (start_year + 1) % 100 != short:
            raise InvalidPeriod(f"{text}: a financial year runs from one year into the next, e.g. 2025-26")
        first = _add_months(date(start_year, 4, 1), 3 * (quarter - 1))
        return Period(text, first, _add_months(first, 3))
    if (m := _FINANCIAL_YEAR.match(text)) and int(m[2]) == (int(m[1]) + 1) % 100:
        first = date(int(m[1]), 4, 1)
        return Period(text, first, date(first.year + 1, 4, 1))
    if m := _CALENDAR_QUARTER.match(text):
        first = date(int(m[1]), 3 * (int(m[2]) - 1) + 1, 1)
        return Period(text, first, _add_months(first, 3))
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
        first = date(int(m[1]), int(m[2]), 1)
        return Period(text, first, _add_months(first, 1))
    if m := _YEAR.match(text):
        return Period(text, date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1))
    raise InvalidPeriod(f"{text!r} is not a reporting period. {PERIOD_HELP}")


def months_between(first_day: date, end_day: date) -> list[str]:
    """Every month (``2025-11``) from the one holding ``first_day`` to the one before ``end_day``."""
    months, day = [], date(first_day.year, first_day.month, 1)
    while day < end_day:
        months.append(f"{day.year}-{day.month:02d}")
        day = _add_months(day, 1)
    return months


def quarters_between(first_day: date, end_day: date, *, financial: bool) -> list[str]:
    """Every quarter (``2025-26-Q1`` or ``2025-Q2``) touching [first_day, end_day)."""
    labels: list[str] = []
    day = date(first_day.year, first_day.month, 1)
    while day < end_day:
        label = financial_quarter_of(day) if financial else f"{day.year}-Q{(day.month + 2) // 3}"
        if label not in labels:
            labels.append(label)
        day = _add_months(day, 1)
    return labels


@dataclass(frozen=True, slots=True)
class Window:
    """What a figure request covers: [start, end), named when it is a period; ``as_of`` is
    the instant after which nothing is counted (the end, or for a period still open to a
    caller without exact figures, the start of the current month)."""

    start: datetime
    end: datetime
    label: str
    as_of: datetime

    @property
    def counted_until(self) -> datetime:
        return min(self.end, self.as_of)

    @property
    def first_day(self) -> date:
        return england_day(self.start)

    @property
    def end_day(self) -> date:
        return england_day(self.end)


def _bound(value: date | datetime, name: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidPeriod(f"{name}: give a date (2025-04-01) or a time with its offset")
        return value.astimezone(UTC)
    return england_midnight(value)


def _is_month_start(instant: datetime) -> bool:
    local = instant.astimezone(REPORTING_ZONE)
    return local.day == 1 and local.time() == time(0)


def reporting_window(
    *,
    period: str | None,
    start: date | datetime | None,
    end: date | datetime | None,
    exact: bool,
    now: datetime,
) -> Window:
    """The window a figure request covers. ``period`` names one; else ``from``/``to``
    (dates are days in England); else the current financial year. Callers without exact
    figures (``exact`` false) get whole months only, counted up to the start of the
    current month. :class:`InvalidPeriod` says what is wrong (the message names the
    parameter first: ``period``, ``from`` or ``to``)."""
    if period is not None:
        if start is not None or end is not None:
            raise InvalidPeriod("period: give either a period or from/to, not both")
        try:
            named = parse_period(period)
        except InvalidPeriod as exc:
            raise InvalidPeriod(f"period: {exc}") from exc
        since, until, label = named.start, named.end, named.label
    elif start is None and end is None:
        named = parse_period(financial_year_of(england_day(now)))
        since, until, label = named.start, named.end, named.label
    else:
        until = _bound(end, "to") if end is not None else now
        since = _bound(start, "from") if start is not None else until - timedelta(days=365)
        if not exact:
            for name, value in (("from", since), ("to", until)):
                if not _is_month_start(value):
                    raise InvalidPeriod(
                        f"{name}: figures without exact-figure rights cover whole months: give the first "
                        "of a month (e.g. 2025-04-01), or a period. " + PERIOD_HELP
                    )
        label = f"{england_day(since).isoformat()}/{england_day(until).isoformat()}"
    if until <= since:
        raise InvalidPeriod("to: the window must end after it starts")
    if until - since > MAX_SPAN:
        raise InvalidPeriod("to: ask for at most 10 years at a time")
    if exact:
        as_of = min(until, now)
    else:
        today = england_day(now)
        as_of = min(until, england_midnight(date(today.year, today.month, 1)))
    return Window(since, until, label, max(as_of, since))
