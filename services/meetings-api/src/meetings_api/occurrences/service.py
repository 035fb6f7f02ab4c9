"""Business rules for occurrences: generated from the series on demand (each rule
instance becomes a row the first time anyone asks for it), moved or cancelled as
this one, this and following, or all upcoming; attendance and quorum."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from meetings_api import audit_trail
from meetings_api.access import reads_meeting
from meetings_api.agendas.models import AgendaItem
from meetings_api.occurrences.models import Attendance, AttendanceStatus, Occurrence, OccurrenceStatus
from meetings_api.occurrences.schemas import AttendeeIn, CancelCreate, EditScope, RescheduleCreate
from meetings_api.recurrence import plan, rule_from, rule_until
from meetings_api.series.models import MeetingSeries, MeetingType
from meetings_api.series.service import get_series
from meetings_api.wall_clock import PLANNING_HORIZON, PLANNING_HORIZON_YEARS
from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem

MAX_WINDOW = timedelta(days=400)


class OccurrenceNotFound(NotFound):
    slug, title = "occurrence-not-found", "Meeting not found"


class WindowTooLong(Problem):
    """The meetings asked for span more days than one request may list."""

    status, slug, title = 422, "window-too-long", "Date range too long"


class OccurrenceClosed(Conflict):
    slug, title = "occurrence-closed", "This meeting can no longer change"


class OccurrenceNotStarted(Conflict):
    slug, title = "occurrence-not-started", "This meeting has not started yet"


def _tz(series: MeetingSeries) -> ZoneInfo:
    return ZoneInfo(series.timezone)


def occurrences_between(
    session: Session, series_id: uuid.UUID, start: datetime, end: datetime
) -> list[Occurrence]:
    """The series' meetings starting in [start, end), created on first request."""
    return list(session.scalars(_window(session, series_id, start, end).order_by(Occurrence.starts_at)))


def occurrences_page(
    session: Session, series_id: uuid.UUID, start: datetime, end: datetime, *, limit: int, cursor: str | None
) -> tuple[list[Occurrence], str | None]:
    """``limit`` of the series' meetings starting in [start, end), in time order, after
    ``cursor``, and the next page's cursor; created on first request."""
    return paginate(
        session,
        _window(session, series_id, start, end),
        created_at=Occurrence.starts_at,
        id_column=Occurrence.id,
        limit=limit,
        cursor=cursor,
        oldest_first=True,
    )


def _window(session: Session, series_id: uuid.UUID, start: datetime, end: datetime) -> Select[Any]:
    """The query for the series' meetings starting in [start, end), after creating those
    the rule plans there and not yet stored (commits them)."""
    series = get_series(session, series_id)
    if end - start > MAX_WINDOW:
        # A rule with no COUNT or UNTIL never ends: callers ask for a window, never "all".
        raise WindowTooLong(
            f"Ask for at most {MAX_WINDOW.days} days of meetings at a time.",
            errors=[
                FieldError(
                    detail=f"at most {MAX_WINDOW.days} days after from", parameter="to", location="query"
                )
            ],
        )
    if end <= start:
        raise WindowTooLong(
            "The range must end after it starts.",
            errors=[FieldError(detail="must be after from", parameter="to", location="query")],
        )
    if end > utc_now() + PLANNING_HORIZON:
        # Generating meetings far ahead costs time in proportion to the distance.
        too_far = "from" if start > utc_now() + PLANNING_HORIZON else "to"
        raise WindowTooLong(
            f"Meetings are listed up to {PLANNING_HORIZON_YEARS} years ahead.",
            errors=[
                FieldError(
                    detail=f"at most {PLANNING_HORIZON_YEARS} years from today",
                    parameter=too_far,
                    location="query",
                )
            ],
        )
    planned = plan(
        series.rrule, series.first_meeting_local, _tz(series), series.bank_holiday_rule, start, end
    )
    known = {
        o.original_start: o
        for o in session.scalars(
            select(Occurrence).where(
                Occurrence.series_id == series.id,
                Occurrence.original_start.in_([p.original_start for p in planned]),
            )
        )
    }
    duration = timedelta(minutes=series.duration_minutes)
    for p in planned:
        if p.original_start in known:
            continue
        session.add(
            Occurrence(
                series_id=series.id,
                original_start=p.original_start,
                starts_at=p.starts_at,
                ends_at=p.starts_at + duration,
                status=OccurrenceStatus.cancelled if p.skipped else OccurrenceStatus.scheduled,
                bank_holiday=p.bank_holiday,
                moved=p.starts_at != p.original_start,
                cancel_reason=f"Bank holiday: {p.bank_holiday}" if p.skipped else None,
            )
        )
    try:
        session.commit()
    except IntegrityError:  # another request generated the same meetings at the same moment
        session.rollback()
    return select(Occurrence).where(
        Occurrence.series_id.in_(_series_chain(session, series.id)),
        Occurrence.starts_at >= start,
        Occurrence.starts_at < end,
    )


def _series_chain(session: Session, series_id: uuid.UUID) -> list[uuid.UUID]:
    """This series and those continuing it after 'this and following' changes."""
    chain, frontier = [series_id], [series_id]
    while frontier:
        frontier = list(
            session.scalars(select(MeetingSeries.id).where(MeetingSeries.continues_series_id.in_(frontier)))
        )
        chain += frontier
    return chain


def get_occurrence(session: Session, occurrence_id: uuid.UUID) -> Occurrence:
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise OccurrenceNotFound(f"There is no meeting {occurrence_id}.")
    return occurrence


def _first_upcoming(session: Session, series_id: uuid.UUID, now: datetime) -> Occurrence | None:
    return session.scalar(
        select(Occurrence)
        .where(
            Occurrence.series_id == series_id,
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.scheduled,
        )
        .order_by(Occurrence.original_start)
        .limit(1)
    )


def _split_from(
    session: Session, series: MeetingSeries, pivot: Occurrence, new_first_local: datetime
) -> MeetingSeries:
    """End ``series`` before ``pivot`` and continue it in a new series whose first
    meeting is ``new_first_local``; later meetings already generated move across,
    shifted like the pivot (their agendas and actions go with them)."""
    tz = _tz(series)
    pivot_local = pivot.original_start.astimezone(tz).replace(tzinfo=None)
    shift = new_first_local - pivot_local
    before = session.scalars(
        select(Occurrence.id).where(
            Occurrence.series_id == series.id, Occurrence.original_start < pivot.original_start
        )
    ).all()
    new_series = MeetingSeries(
        meeting_type=series.meeting_type,
        title=series.title,
        chair_agency=series.chair_agency,
        core_agency_types=list(series.core_agency_types),
        quorum_agency_types=list(series.quorum_agency_types),
        first_meeting_local=new_first_local,
        duration_minutes=series.duration_minutes,
        timezone=series.timezone,
        rrule=rule_from(series.rrule, series.first_meeting_local, new_first_local, len(before)),
        bank_holiday_rule=series.bank_holiday_rule,
        location=series.location,
        online_link=series.online_link,
        continues_series_id=series.id,
        created_by=series.created_by,
    )
    session.add(new_series)
    session.flush()
    later = session.scalars(
        select(Occurrence).where(
            Occurrence.series_id == series.id, Occurrence.original_start >= pivot.original_start
        )
    ).all()
    for occurrence in later:
        local = occurrence.original_start.astimezone(tz).replace(tzinfo=None) + shift
        occurrence.series_id = new_series.id
        occurrence.original_start = local.replace(tzinfo=tz)
        if not occurrence.moved:
            occurrence.starts_at = occurrence.original_start
        occurrence.ends_at = occurrence.starts_at + timedelta(minutes=new_series.duration_minutes)
    series.rrule = rule_until(series.rrule, series.first_meeting_local, pivot_local - timedelta(minutes=1))
    return new_series


def reschedule(
    session: Session, occurrence_id: uuid.UUID, change: RescheduleCreate, if_match: str | None
) -> Occurrence:
    """Move this meeting, this and following, or all upcoming; commits."""
    occurrence = get_occurrence(session, occurrence_id)
    check_if_match(if_match, occurrence.row_version)
    if occurrence.status is not OccurrenceStatus.scheduled:
        raise OccurrenceClosed(f"A {occurrence.status.value} meeting cannot be moved.")
    series = get_series(session, occurrence.series_id)
    tz = _tz(series)
    if change.scope is EditScope.this:
        occurrence.starts_at = change.starts_at_local.replace(tzinfo=tz)
        occurrence.ends_at = occurrence.starts_at + timedelta(
            minutes=change.duration_minutes or series.duration_minutes
        )
        occurrence.moved = True
        session.commit()
        return occurrence
    pivot = (
        occurrence
        if change.scope is EditScope.following
        else (_first_upcoming(session, series.id, utc_now()) or occurrence)
    )
    if pivot is not occurrence:  # 'all': the new time applies from the first upcoming meeting
        delta = change.starts_at_local - occurrence.original_start.astimezone(tz).replace(tzinfo=None)
        new_first = pivot.original_start.astimezone(tz).replace(tzinfo=None) + delta
    else:
        new_first = change.starts_at_local
    new_series = _split_from(session, series, pivot, new_first)
    if change.duration_minutes:
        new_series.duration_minutes = change.duration_minutes
    session.commit()
    return get_occurrence(session, occurrence.id)


def cancel(
    session: Session, occurrence_id: uuid.UUID, change: CancelCreate, if_match: str | None
) -> Occurrence:
    """Cancel this meeting, this and following, or all upcoming; commits."""
    occurrence = get_occurrence(session, occurrence_id)
    check_if_match(if_match, occurrence.row_version)
    if occurrence.status is not OccurrenceStatus.scheduled:
        raise OccurrenceClosed(f"A {occurrence.status.value} meeting cannot be cancelled.")
    series = get_series(session, occurrence.series_id)
    targets = [occurrence]
    if change.scope is not EditScope.this:
        pivot = (
            occurrence
            if change.scope is EditScope.following
            else (_first_upcoming(session, series.id, utc_now()) or occurrence)
        )
        pivot_local = pivot.original_start.astimezone(_tz(series)).replace(tzinfo=None)
        series.rrule = rule_until(
            series.rrule, series.first_meeting_local, pivot_local - timedelta(minutes=1)
        )
        targets = list(
            session.scalars(
                select(Occurrence).where(
                    Occurrence.series_id == series.id,
                    Occurrence.original_start >= pivot.original_start,
                    Occurrence.status == OccurrenceStatus.scheduled,
                )
            )
        )
    for target in targets:
        target.status = OccurrenceStatus.cancelled
        target.cancel_reason = change.reason
    session.commit()
    return get_occurrence(session, occurrence.id)


def mark_held(session: Session, occurrence_id: uuid.UUID, if_match: str | None) -> Occurrence:
    """scheduled -> held, once the meeting has started; commits."""
    occurrence = get_occurrence(session, occurrence_id)
    check_if_match(if_match, occurrence.row_version)
    if occurrence.status is not OccurrenceStatus.scheduled:
        raise OccurrenceClosed(f"A {occurrence.status.value} meeting cannot be marked held.")
    if utc_now() < occurrence.starts_at:
        series = get_series(session, occurrence.series_id)
        starts = occurrence.starts_at.astimezone(_tz(series))
        raise OccurrenceNotStarted(
            f"This meeting starts at {starts:%Y-%m-%dT%H:%M} {series.timezone}; it can be recorded "
            "as held once it has started."
        )
    occurrence.status = OccurrenceStatus.held
    session.commit()
    return occurrence


def missing_for_quorum(
    quorum: Sequence[str], attendees: Sequence[AttendeeIn | Attendance]
) -> list[AgencyType]:
    """The quorum's agency types with nobody present (empty: quorate)."""
    present = {a.agency_type for a in attendees if a.status is AttendanceStatus.present}
    return [AgencyType(t) for t in quorum if AgencyType(t) not in present]


def record_attendance(
    session: Session, occurrence_id: uuid.UUID, attendees: Sequence[AttendeeIn]
) -> list[Attendance]:
    """Replace the meeting's attendance list; commits."""
    occurrence = get_occurrence(session, occurrence_id)
    if occurrence.status is OccurrenceStatus.cancelled:
        raise OccurrenceClosed("A cancelled meeting has no attendance.")
    for old in session.scalars(select(Attendance).where(Attendance.occurrence_id == occurrence.id)).all():
        session.delete(old)
    session.flush()
    rows = [Attendance(occurrence_id=occurrence.id, **a.model_dump()) for a in attendees]
    session.add_all(rows)
    session.commit()
    return rows


def attendance_of(session: Session, occurrence_id: uuid.UUID) -> list[Attendance]:
    get_occurrence(session, occurrence_id)
    return list(session.scalars(select(Attendance).where(Attendance.occurrence_id == occurrence_id)))


def previous_occurrence(session: Session, occurrence: Occurrence) -> Occurrence | None:
    """The meeting of the same series (chain) before this one, not cancelled."""
    series = get_series(session, occurrence.series_id)
    roots = [series.id] if series.continues_series_id is None else [series.id, series.continues_series_id]
    return session.scalar(
        select(Occurrence)
        .where(
            Occurrence.series_id.in_(roots),
            Occurrence.starts_at < occurrence.starts_at,
            Occurrence.status != OccurrenceStatus.cancelled,
        )
        .order_by(Occurrence.starts_at.desc())
        .limit(1)
    )


def meetings_of_series_chain(session: Session, occurrence: Occurrence) -> list[uuid.UUID]:
    """Every meeting of the occurrence's series, and of the series it continues."""
    series = get_series(session, occurrence.series_id)
    roots = [series.id] + ([series.continues_series_id] if series.continues_series_id else [])
    return list(session.scalars(select(Occurrence.id).where(Occurrence.series_id.in_(roots))))


def attended_by(session: Session, occurrence_id: uuid.UUID, agency: str) -> bool:
    """True when someone from ``agency`` is on the meeting's attendance list."""
    return (
        session.scalar(
            select(Attendance.agency)
            .where(Attendance.occurrence_id == occurrence_id, Attendance.agency == agency)
            .limit(1)
        )
        is not None
    )


def may_read_occurrence(session: Session, principal: Principal, occurrence_id: uuid.UUID) -> bool:
    """True when the caller may read this meeting's agenda, attendance and minutes
    (:func:`meetings_api.access.reads_meeting`: invited means on its attendance list)."""
    return reads_meeting(principal, invited=attended_by(session, occurrence_id, principal.agency))


def refuse_meeting_record(
    session: Session,
    principal: Principal,
    occurrence_id: uuid.UUID,
    resource_type: str,
    resource_id: uuid.UUID,
) -> None:
    """Audit a refused read of an existing meeting's record, against each child on its
    agenda, and commit (the caller then answers 404)."""
    children = {
        c
        for ids in session.scalars(
            select(AgendaItem.child_ids).where(AgendaItem.occurrence_id == occurrence_id)
        )
        for c in ids
    }
    audit_trail.record_for_children(
        session, principal, "read", resource_type, resource_id, sorted(children), outcome="denied"
    )
    session.commit()


def readable_occurrence(
    session: Session, principal: Principal, occurrence_id: uuid.UUID, resource_type: str = "occurrence"
) -> Occurrence:
    """The meeting, for case workers of the agencies that chair meetings or of an agency
    on its attendance list; otherwise :class:`OccurrenceNotFound`, the refusal audited
    against each child on its agenda as a read of ``resource_type``."""
    occurrence = session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise OccurrenceNotFound(f"There is no meeting {occurrence_id} that you can see.")
    if not may_read_occurrence(session, principal, occurrence_id):
        refuse_meeting_record(session, principal, occurrence_id, resource_type, occurrence_id)
        raise OccurrenceNotFound(f"There is no meeting {occurrence_id} that you can see.")
    return occurrence


def next_meeting_of_type(session: Session, meeting_type: MeetingType, now: datetime) -> Occurrence | None:
    """The next scheduled meeting of any series of this type, generated if need be
    (flushed, not committed: the caller's transaction decides)."""
    best: Occurrence | None = None
    for series in session.scalars(select(MeetingSeries).where(MeetingSeries.meeting_type == meeting_type)):
        planned = plan(
            series.rrule,
            series.first_meeting_local,
            _tz(series),
            series.bank_holiday_rule,
            now,
            now + timedelta(days=62),
        )
        for p in planned:
            if p.skipped:
                continue
            occurrence = session.scalar(
                select(Occurrence).where(
                    Occurrence.series_id == series.id, Occurrence.original_start == p.original_start
                )
            )
            if occurrence is None:
                occurrence = Occurrence(
                    series_id=series.id,
                    original_start=p.original_start,
                    starts_at=p.starts_at,
                    ends_at=p.starts_at + timedelta(minutes=series.duration_minutes),
                    bank_holiday=p.bank_holiday,
                    moved=p.starts_at != p.original_start,
                )
                session.add(occurrence)
                session.flush()
            if occurrence.status is OccurrenceStatus.scheduled and occurrence.starts_at >= now:
                if best is None or occurrence.starts_at < best.starts_at:
                    best = occurrence
                break
    return best
