"""A series as an iCalendar feed (RFC 5545) that Outlook and Google Calendar read: one
VEVENT with the RRULE in Europe/London, EXDATEs for cancelled and moved meetings,
and one VEVENT per moved meeting (RECURRENCE-ID). Calendar entries never carry a
child's name or id: only counts and the link to the agenda."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
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


def series_calendar(
    series: MeetingSeries,
    occurrences: Sequence[Occurrence],
    agenda_counts: dict[str, int],
    *,
    link: str,
    now: datetime,
) -> bytes:
    """The ICS text of the series: ``occurrences`` are the ones generated so far."""
    tz = ZoneInfo(series.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Safeguarding platform//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-timezone", series.timezone)
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
    return bytes(calendar.to_ical())


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


def calendar_feed(session: Session, series: MeetingSeries, *, now: datetime) -> bytes:
    """The series' ICS text: its meetings from 30 days ago to a year ahead, each with the
    size of its agenda (never a child's name or id) and the link to the series."""
    occurrences = occurrences_between(session, series.id, now - timedelta(days=30), now + timedelta(days=366))
    counts = {
        str(occurrence_id): count
        for occurrence_id, count in session.execute(
            select(AgendaItem.occurrence_id, func.count())
            .where(AgendaItem.occurrence_id.in_([o.id for o in occurrences]))
            .group_by(AgendaItem.occurrence_id)
        ).all()
    }
    return series_calendar(series, occurrences, counts, link=f"/api/v1/meetings/series/{series.id}", now=now)
