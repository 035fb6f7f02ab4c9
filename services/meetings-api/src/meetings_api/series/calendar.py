"""Meeting series as an iCalendar feed (RFC 5545) that Outlook and Google Calendar read:
per series one VEVENT with the RRULE in Europe/London, EXDATEs for cancelled and moved
meetings, and one VEVENT per moved meeting (RECURRENCE-ID); and the VTIMEZONE of every
TZID the events name, so a client without its own copy of the zone (or with an older one)
places 10:00 London time at 09:00Z in summer and 10:00Z in winter. Calendar entries never
carry a child's name or id: only the series' title and place, agenda sizes and the link."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings_api.agendas.models import AgendaItem
from meetings_api.occurrences.models import Occurrence, OccurrenceStatus
from meetings_api.occurrences.service import occurrences_between
from meetings_api.recurrence import plan
from meetings_api.series.models import MeetingSeries

HORIZON = timedelta(days=366)
# How far ahead the VTIMEZONE spells out the clock changes: a rule may never end, and a
# client past the last listed change keeps the last offset.
TIMEZONE_YEARS_AHEAD = 10
PRODID = "-//Safeguarding platform//Meetings//EN"


def new_calendar(name: str, *, timezone: str | None = None, refresh: timedelta | None = None) -> Calendar:
    """An empty calendar called ``name``; ``refresh`` tells subscribed apps how often to
    read it again (RFC 7986 REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    if timezone is not None:
        calendar.add("x-wr-timezone", timezone)
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", refresh)
    return calendar


def with_timezones(calendar: Calendar, *, since: date, now: datetime) -> bytes:
    """The calendar's ICS text with a VTIMEZONE for every TZID its events use, spelling
    out the clock changes from ``since`` (the earliest event) to ten years after ``now``."""
    calendar.add_missing_timezones(
        first_date=since - timedelta(days=1), last_date=date(now.year + TIMEZONE_YEARS_AHEAD, 12, 31)
    )
    return bytes(calendar.to_ical())


def add_series(
    calendar: Calendar,
    series: MeetingSeries,
    occurrences: Sequence[Occurrence],
    agenda_counts: dict[str, int],
    *,
    link: str,
    now: datetime,
) -> None:
    """Add the series' events to ``calendar``: ``occurrences`` are the ones generated so far."""
    tz = ZoneInfo(series.timezone)
    duration = timedelta(minutes=series.duration_minutes)

    master = Event()
    master.add("uid", f"{series.id}@safeguarding-platform")
    master.add("summary", f"{series.meeting_type.value}: {series.title}")
    master.add("dtstart", series.first_meeting_local.replace(tzinfo=tz))
    master.add("duration", duration)
    master.add("dtstamp", now)
    master.add("rrule", vRecur.from_ical(series.rrule))
    if series.location:
        master.add("location", series.location)
    master.add("description", f"Agenda, minutes and actions: {link}\nCalendar entries never name children.")

    exdates: dict[datetime, Occurrence | None] = {}
    for o in occurrences:
        if o.status is OccurrenceStatus.cancelled or o.starts_at != o.original_start:
            exdates[o.original_start] = o
    # Bank-holiday moves and skips the rule alone would get wrong, for the year ahead.
    for p in plan(series.rrule, series.first_meeting_local, tz, series.bank_holiday_rule, now, now + HORIZON):
        if (p.skipped or p.starts_at != p.original_start) and p.original_start not in exdates:
            exdates[p.original_start] = None
            if not p.skipped:
                calendar.add_component(
                    _moved(series, p.original_start, p.starts_at, duration, 0, link, now, tz)
                )
    for original in sorted(exdates):
        master.add("exdate", original.astimezone(tz))
    calendar.add_component(master)
    for o in occurrences:
        if o.status is not OccurrenceStatus.cancelled and o.starts_at != o.original_start:
            count = agenda_counts.get(str(o.id), 0)
            calendar.add_component(
                _moved(series, o.original_start, o.starts_at, o.ends_at - o.starts_at, count, link, now, tz)
            )


def _moved(
    series: MeetingSeries,
    original: datetime,
    starts: datetime,
    duration: timedelta,
    items: int,
    link: str,
    now: datetime,
    tz: ZoneInfo,
) -> Event:
    event = Event()
    event.add("uid", f"{series.id}@safeguarding-platform")
    event.add("recurrence-id", original.astimezone(tz))
    event.add("summary", f"{series.meeting_type.value}: {series.title} (moved)")
    event.add("dtstart", starts.astimezone(tz))
    event.add("duration", duration)
    event.add("dtstamp", now)
    event.add("description", f"Agenda: {items} items. {link}")
    return event


def calendar_feed(
    session: Session,
    series: Sequence[MeetingSeries],
    *,
    name: str,
    now: datetime,
    refresh: timedelta | None = None,
) -> bytes:
    """The ICS text of ``series``: their meetings from 30 days ago to a year ahead, each
    with the size of its agenda (never a child's name or id) and the link to its series,
    and the VTIMEZONE of each time zone the meetings are in."""
    zones = {s.timezone for s in series}
    calendar = new_calendar(name, timezone=zones.pop() if len(zones) == 1 else None, refresh=refresh)
    for one in series:
        occurrences = occurrences_between(session, one.id, now - timedelta(days=30), now + HORIZON)
        add_series(
            calendar,
            one,
            occurrences,
            _agenda_sizes(session, occurrences),
            link=f"/api/v1/meetings/series/{one.id}",
            now=now,
        )
    since = min((s.first_meeting_local.date() for s in series), default=now.date())
    return with_timezones(calendar, since=since, now=now)


def _agenda_sizes(session: Session, occurrences: Sequence[Occurrence]) -> dict[str, int]:
    return {
        str(occurrence_id): count
        for occurrence_id, count in session.execute(
            select(AgendaItem.occurrence_id, func.count())
            .where(AgendaItem.occurrence_id.in_([o.id for o in occurrences]))
            .group_by(AgendaItem.occurrence_id)
        ).all()
    }
