"""Meeting dates from an RFC 5545 rule, in Europe/London wall-clock time.

The rule is applied to the series' local start (a naive wall-clock time) and each
instance is then placed in the time zone, so a 10:00 meeting stays at 10:00 across
the clock changes (09:00 or 10:00 UTC). An instance on an England and Wales bank
holiday is flagged and kept, skipped or moved to the next working day as the series
says. Pure functions: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from safeguarding_kit.working_days import bank_holiday_name, is_working_day

MAX_INSTANCES = 500  # per window: a rule such as FREQ=MINUTELY must not run away


class BankHolidayRule(StrEnum):
    keep = "keep"
    skip = "skip"
    move_to_next_working_day = "move_to_next_working_day"


@dataclass(frozen=True)
class PlannedOccurrence:
    original_start: datetime  # the rule's instance (aware): the occurrence's identity
    starts_at: datetime  # when it takes place (aware), after any bank-holiday move
    bank_holiday: str | None
    skipped: bool


def parse_rule(rule: str, first_local: datetime) -> rrule:
    """The rule as dateutil's object; ValueError when it is not RFC 5545 or has no end
    in sight for a sub-daily frequency."""
    parsed = rrulestr(rule.removeprefix("RRULE:"), dtstart=first_local)
    if not isinstance(parsed, rrule):
        raise ValueError("give a single RRULE")
    return parsed


def never_gives_a_meeting(rule: str, first_local: datetime) -> bool:
    """True for a rule no date ever satisfies (say, 30 February). dateutil looks for such a
    rule's next instance until the year 9999, seconds of work on every listing. The
    Gregorian calendar repeats every 400 years, so the rule is tried instead from the same
    point of the cycle near 9999: a scan of 400 to 800 years, done once, when it is given."""
    parsed = parse_rule(rule, first_local)
    cycles = (MAXYEAR - 400 - first_local.year) // 400
    late_start = first_local.replace(year=first_local.year + 400 * cycles)
    probe = parsed.replace(dtstart=late_start, count=None, until=None)
    return probe.after(late_start, inc=True) is None


def instances(
    rule: str, first_local: datetime, tz: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """The rule's instances between ``start`` and ``end`` (aware), as aware times."""
    parsed = parse_rule(rule, first_local)
    local_start = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    local_end = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found: list[datetime] = []
    for local in parsed.xafter(local_start, count=MAX_INSTANCES, inc=True):
        if local > local_end:
            break
        aware = local.replace(tzinfo=tz)
        if start <= aware < end:
            found.append(aware)
    return found


def next_working_day_same_time(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz).replace(tzinfo=None)
    day = local.date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, local.time()).replace(tzinfo=tz)


def plan(
    rule: str,
    first_local: datetime,
    tz: ZoneInfo,
    holiday_rule: BankHolidayRule,
    start: datetime,
    end: datetime,
) -> list[PlannedOccurrence]:
    """Each instance in the window with its bank-holiday handling applied."""
    planned = []
    for moment in instances(rule, first_local, tz, start, end):
        holiday = bank_holiday_name(moment.astimezone(tz).date())
        if holiday is None or holiday_rule is BankHolidayRule.keep:
            planned.append(PlannedOccurrence(moment, moment, holiday, skipped=False))
        elif holiday_rule is BankHolidayRule.skip:
            planned.append(PlannedOccurrence(moment, moment, holiday, skipped=True))
        else:
            planned.append(
                PlannedOccurrence(moment, next_working_day_same_time(moment, tz), holiday, skipped=False)
            )
    return planned


def rule_until(rule: str, first_local: datetime, last_local: datetime) -> str:
    """The same rule ending at ``last_local`` (for "this and following" edits)."""
    parsed = parse_rule(rule, first_local).replace(until=last_local, count=None)
    return _rule_text(parsed)


def rule_from(rule: str, first_local: datetime, new_first_local: datetime, instances_before: int) -> str:
    """The rule continued from a new first meeting (a COUNT shrinks by what went before)."""
    parsed = parse_rule(rule, first_local)
    # dateutil keeps the rule's parts in private attributes and offers no accessor.
    count: int | None = getattr(parsed, "_count")  # noqa: B009
    if count is not None:
        parsed = parsed.replace(count=max(count - instances_before, 1))
    weekdays: tuple[int, ...] | None = getattr(parsed, "_byweekday")  # noqa: B009
    if weekdays and len(weekdays) == 1 and new_first_local.weekday() not in weekdays:
        # A weekly meeting moved to another weekday keeps meeting on that new weekday.
        parsed = parsed.replace(byweekday=new_first_local.weekday())
    return _rule_text(parsed.replace(dtstart=new_first_local))


def _rule_text(parsed: rrule) -> str:
    lines = [line for line in str(parsed).splitlines() if line.startswith("RRULE:")]
    return lines[0].removeprefix("RRULE:")
