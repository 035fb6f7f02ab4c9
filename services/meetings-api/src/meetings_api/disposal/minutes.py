"""A meeting's own minutes under the retention schedule (class ``meeting_minutes``): once
the schedule's period since the meeting has passed, what the meeting recorded goes (the
items' titles, reasons, minutes and children, the decisions' texts, the actions'
descriptions and owners' names, the attendees' names and roles, a cancellation's reason),
and a disposal record says so. What the action figures count stays, so no figure moves.
A hold on the class stops it all; a hold on a child, person or place of concern keeps
the meetings that discussed them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.audit_trail import TRAIL, record_for_children
from meetings_api.database import DISPOSALS, IDEMPOTENCY
from meetings_api.disposal.holds import Holds, holds_in_force
from meetings_api.occurrences.models import Attendance, Occurrence
from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.idempotency import forget_answers_for
from safeguarding_kit.periods import england_day, england_midnight
from safeguarding_kit.retention.records import record_disposal
from safeguarding_kit.retention.schedule import RecordClass, RetentionSchedule, disposal_due

CAUSE = "retention"
SUBJECT_TYPE = "meeting"
ITEM_TITLE = "Item of a meeting whose minutes were disposed of"
DECISION_TEXT = "Decision of a meeting whose minutes were disposed of"
ACTION_DESCRIPTION = "Action of a meeting whose minutes were disposed of"
ATTENDEE = "Attendee {n} (minutes disposed of)"
BATCH = 200

# The audit trail's actor for what the retention job did.
RETENTION_ACTOR = Principal(sub="system:retention", agency="platform", agency_type=AgencyType.social_care)


@dataclass(frozen=True)
class MinutesDisposal:
    """One meeting whose minutes go (or, in a dry run, would go), and how much of them."""

    occurrence_id: uuid.UUID
    series_id: uuid.UUID
    starts_at: datetime
    due: date
    agenda_items: int
    decisions: int
    actions: int
    attendees: int


@dataclass
class _Minutes:
    occurrence: Occurrence
    due: date
    items: list[AgendaItem]
    decisions: list[Decision]
    actions: list[Action]
    attendance: list[Attendance]

    def children(self) -> set[str]:
        return {c for item in self.items for c in item.child_ids} | {
            str(a.child_id) for a in self.actions if a.child_id is not None
        }

    def held_by(self, holds: Holds) -> bool:
        return bool(
            {uuid.UUID(c) for c in self.children()} & holds.children
            or {i.subject_id for i in self.items if i.subject_id is not None} & holds.concerns
        )

    def listed(self) -> MinutesDisposal:
        return MinutesDisposal(
            occurrence_id=self.occurrence.id,
            series_id=self.occurrence.series_id,
            starts_at=self.occurrence.starts_at,
            due=self.due,
            agenda_items=len(self.items),
            decisions=len(self.decisions),
            actions=len(self.actions),
            attendees=len(self.attendance),
        )


def _minutes_of(session: Session, occurrence: Occurrence, due: date) -> _Minutes:
    items = list(
        session.scalars(
            select(AgendaItem).where(AgendaItem.occurrence_id == occurrence.id).order_by(AgendaItem.position)
        )
    )
    decisions = list(
        session.scalars(
            select(Decision)
            .where(Decision.agenda_item_id.in_([i.id for i in items]))
            .order_by(Decision.recorded_at, Decision.id)
        )
    )
    actions = list(
        session.scalars(select(Action).where(Action.occurrence_id == occurrence.id).order_by(Action.id))
    )
    attendance = list(
        session.scalars(
            select(Attendance)
            .where(Attendance.occurrence_id == occurrence.id)
            .order_by(Attendance.agency, Attendance.person_name)
        )
    )
    return _Minutes(occurrence, due, items, decisions, actions, attendance)


def _expired(
    session: Session, schedule: RetentionSchedule, today: date, *, lock: bool, page: int
) -> Iterator[tuple[Occurrence, date]]:
    """Meetings whose minutes are past the schedule's period and not yet disposed of, oldest
    first, with the day each fell due (read ``page`` at a time, each page locked with ``lock``)."""
    rule = schedule.rule(RecordClass.meeting_minutes)
    if rule.years_after_last_activity is None:
        return  # kept, or a birthday rule: a meeting has no birthday
    # A generous bound for the database; the rule itself decides each meeting below.
    bound = england_midnight(today - relativedelta(years=rule.years_after_last_activity) + timedelta(days=2))
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = (
            select(Occurrence)
            .where(Occurrence.minutes_disposed_at.is_(None), Occurrence.starts_at < bound)
            .order_by(Occurrence.starts_at, Occurrence.id)
            .limit(page)
        )
        if after is not None:
            query = query.where(
                or_(
                    Occurrence.starts_at > after[0],
                    and_(Occurrence.starts_at == after[0], Occurrence.id > after[1]),
                )
            )
        if lock:
            # Every worker and replica runs the job: on PostgreSQL they skip each other's meetings.
            query = query.with_for_update(skip_locked=True)
        occurrences = list(session.scalars(query))
        for occurrence in occurrences:
            due = disposal_due(rule, last_activity=england_day(occurrence.starts_at))
            if due is None or due > today:
                return  # later meetings fall due later still
            yield occurrence, due
        if len(occurrences) < page:
            return
        after = (occurrences[-1].starts_at, occurrences[-1].id)


def _dispose(session: Session, minutes: _Minutes, now: datetime) -> None:
    children = minutes.children()
    for item in minutes.items:
        item.title, item.reasons, item.minutes = ITEM_TITLE, [], None
        item.child_ids, item.subject_id, item.generation_key = [], None, None
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(item.id))
    for decision in minutes.decisions:
        decision.text = DECISION_TEXT
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(decision.id))
    for action in minutes.actions:
        action.description, action.child_id, action.owner_person = ACTION_DESCRIPTION, None, None
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(action.id))
    # Attendance stays by agency (quorum, and who may read the meeting); the people go.
    for n, attendee in enumerate(minutes.attendance, start=1):
        attendee.person_name, attendee.role = ATTENDEE.format(n=n), None
    minutes.occurrence.cancel_reason = None
    minutes.occurrence.minutes_disposed_at = now
    session.flush()
    if children:
        record_for_children(
            session, RETENTION_ACTOR, "dispose", "meeting_minutes", minutes.occurrence.id, sorted(children)
        )
    else:
        TRAIL.record(session, RETENTION_ACTOR, "dispose", "meeting_minutes", minutes.occurrence.id, None)


def dispose_expired_minutes(
    session: Session, schedule: RetentionSchedule, now: datetime, dry_run: bool, *, batch: int = BATCH
) -> list[MinutesDisposal]:
    """The meetings (``batch`` at most, oldest first) whose minutes are past the schedule's
    ``meeting_minutes`` rule, counted from the day each meeting started, and held by no
    hold: on the class (then none), or on a child, person or place of concern the
    meeting discussed. Unless ``dry_run``, their minutes are disposed of, each with a disposal
    record and audit records, and the session commits; a dry run changes nothing and lists
    exactly what a run would do."""
    holds = holds_in_force(session)
    if holds.holds_class(RecordClass.meeting_minutes):
        return []
    rule = schedule.rule(RecordClass.meeting_minutes)
    chosen: list[_Minutes] = []
    for occurrence, due in _expired(session, schedule, england_day(now), lock=not dry_run, page=batch):
        minutes = _minutes_of(session, occurrence, due)
        # A meeting kept by a hold stays as it is; the ones after it still go.
        if not minutes.held_by(holds):
            chosen.append(minutes)
        if len(chosen) == batch:
            break
    listed = [minutes.listed() for minutes in chosen]
    if dry_run:
        return listed
    for minutes in chosen:
        _dispose(session, minutes, now)
        record_disposal(
            session,
            DISPOSALS,
            record_class=RecordClass.meeting_minutes.value,
            rule=rule.describe(),
            subject_type=SUBJECT_TYPE,
            subject_id=minutes.occurrence.id,
            cause=CAUSE,
            schedule_version=schedule.version,
            at=now,
        )
    session.commit()
    return listed
