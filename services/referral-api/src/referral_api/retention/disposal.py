"""Disposal of what is past the retention schedule and not held, one transaction per
record: the de-identified facts the figures need are kept first
(:mod:`referral_api.stats.statistical_facts`), then every row the service holds about the
record is deleted, a disposal record is written per record class (never the content),
the other services are told (``child.disposed``) and the audit trail records who disposed
of it. The audit trail itself is never touched (``audit_record`` is kept)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Table, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.children.events import ChildDisposed
from referral_api.children.models import Child
from referral_api.database import AUDIT, DISPOSALS, EVENTS, IDEMPOTENCY, Base
from referral_api.disruption.models import TargetType
from referral_api.referrals.models import Referral
from referral_api.retention.due import (
    CONCERNS,
    DueRecord,
    active_holds,
    due_children,
    due_concerns,
    plan_disposal,
)
from referral_api.retention.models import HoldSubject, LegalHold
from referral_api.retention.schemas import ClassDueRead, DisposalRunRead, DueRecordRead
from referral_api.stats.statistical_facts import (
    keep_disruption_facts,
    keep_place_facts,
    keep_statistical_facts,
)
from referral_api.subject_access.models import SubjectAccessPackage, SubjectAccessRequest
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.periods import england_day
from safeguarding_kit.retention.records import record_disposal
from safeguarding_kit.retention.schedule import RetentionSchedule

log = logging.getLogger(__name__)

# The disposal job's actor in the audit trail (the background loop and the command line).
RETENTION_JOB = Principal(
    sub="system:retention",
    agency="platform",
    agency_type=AgencyType.other,
    roles=frozenset({Role.auditor}),
    capacities=frozenset({Capacity.audits}),
)
CAUSE = "retention"  # the disposal record's cause: this service's own schedule
# Whose disruption actions go with a person or place of concern (their facts kept first).
DISRUPTION_TARGETS = {
    HoldSubject.person_of_concern: TargetType.person,
    HoldSubject.place_of_concern: TargetType.place,
}
# What disposal never deletes: the audit trail (kept), the disposal records and holds
# themselves, and the event tables (ids only; a child's last events must still go out).
_NEVER_DISPOSED = frozenset(
    {
        AUDIT.log.name,
        AUDIT.head.name,
        DISPOSALS.name,
        LegalHold.__tablename__,
        EVENTS.events.name,
        EVENTS.deliveries.name,
        EVENTS.inbox.name,
        EVENTS.webhook_endpoints.name,
        IDEMPOTENCY.name,
    }
)


def _still_due(
    session: Session, schedule: RetentionSchedule, today: date, record: DueRecord
) -> DueRecord | None:
    """``record`` as it stands now, in the disposal's transaction: None when something
    happened since it was judged (new activity, a merge, a hold)."""
    if record.subject_type is HoldSubject.child:
        current = due_children(session, schedule, today, only=record.subject_id)
    else:
        current = due_concerns(session, schedule, today, record.subject_type, only=record.subject_id)
    if not current or active_holds(session).keep(current[0]):
        return None
    return current[0]


def _erase(session: Session, table: Table, which: ColumnElement[bool], erased_ids: list[str]) -> None:
    """Delete the rows of ``table`` that ``which`` selects and, first, every row of any
    table (but those never disposed of) that refers to them, however deep; the ids of
    the rows deleted are added to ``erased_ids``."""
    key = list(table.primary_key.columns)
    if len(key) != 1:  # nothing refers to a row without a single-column key
        session.execute(delete(table).where(which))
        return
    ids = list(session.scalars(select(key[0]).where(which)))
    if not ids:
        return
    erased_ids += [str(i) for i in ids]
    for dependent in reversed(Base.metadata.sorted_tables):
        if dependent is table or dependent.name in _NEVER_DISPOSED:
            continue
        refs = [fk.parent for fk in dependent.foreign_keys if fk.column.table is table]
        if refs:
            _erase(session, dependent, or_(*(ref.in_(ids) for ref in refs)), erased_ids)
    session.execute(delete(table).where(key[0].in_(ids)))


def _forget_stored_answers(session: Session, erased_ids: list[str], named: Iterable[uuid.UUID]) -> None:
    """Drop the stored first answers to retried creates that made an erased row or whose
    body names one of ``named`` (a child's record, a person, a place)."""
    answer = cast(IDEMPOTENCY.c.response_body, Text)
    session.execute(
        delete(IDEMPOTENCY).where(
            or_(
                IDEMPOTENCY.c.resource_id.in_(erased_ids),
                *(answer.contains(str(record_id)) for record_id in named),
            )
        )
    )


def _forget_answered_requests(session: Session, subject_ids: Iterable[uuid.UUID]) -> None:
    """The packages assembled for subject access requests about ``subject_ids`` (copies of
    their records) and the reviewers' free-text reasons go; each request's dates, status and
    outcome stay, to show it was answered. (A request not yet answered holds the record.)"""
    requests = select(SubjectAccessRequest.id).where(SubjectAccessRequest.subject_id.in_(list(subject_ids)))
    session.execute(delete(SubjectAccessPackage).where(SubjectAccessPackage.request_id.in_(requests)))
    session.execute(
        update(SubjectAccessRequest)
        .where(SubjectAccessRequest.id.in_(requests))
        .values(outcome_reasons=None, extension_reason=None)
        .execution_options(synchronize_session=False)
    )


def _erase_child(session: Session, record: DueRecord) -> None:
    """Everything the service holds about the child and every record merged into it."""
    erased: list[str] = []
    family = list(record.ids)
    referral_ids = list(session.scalars(select(Referral.id).where(Referral.child_id.in_(family))))
    _erase(session, Base.metadata.tables[Child.__tablename__], Child.id.in_(family), erased)
    _forget_stored_answers(session, erased, [*family, *[uuid.UUID(str(r)) for r in referral_ids]])
    _forget_answered_requests(session, family)


def _erase_concern(session: Session, record: DueRecord) -> None:
    model, _ = CONCERNS[record.subject_type]
    erased: list[str] = []
    _erase(session, Base.metadata.tables[model.__tablename__], model.id == record.subject_id, erased)
    _forget_stored_answers(session, erased, [record.subject_id])
    _forget_answered_requests(session, [record.subject_id])


def _lock(session: Session, record: DueRecord) -> bool:
    """Lock the record's rows (a child's, with every record merged into it) for its
    disposal; False when another process is disposing of it or placing a hold on it just
    now, or it is gone."""
    if record.subject_type is HoldSubject.child:
        rows = select(Child.id).where(Child.id.in_(record.ids))
    else:
        model = CONCERNS[record.subject_type][0]
        rows = select(model.id).where(model.id == record.subject_id)
    locked = session.scalars(rows.with_for_update(skip_locked=True)).all()
    return len(locked) == len(record.ids)


def _dispose_one(
    session: Session,
    schedule: RetentionSchedule,
    today: date,
    record: DueRecord,
    outbox: Outbox,
    actor: Principal,
) -> DueRecord | None:
    """Dispose of ``record`` in one transaction, if it is still due and not held: what
    went, or None. Commits (or rolls back)."""
    current = _still_due(session, schedule, today, record) if _lock(session, record) else None
    if current is None:
        session.rollback()
        return None
    disposed_at = utc_now()
    if current.subject_type is HoldSubject.child:
        for family_id in current.ids:  # a record merged into it may hold an episode of its own
            keep_statistical_facts(session, family_id)
        _erase_child(session, current)
    else:
        if current.subject_type is HoldSubject.place_of_concern:
            keep_place_facts(session, current.subject_id)
        keep_disruption_facts(session, DISRUPTION_TARGETS[current.subject_type], current.subject_id)
        _erase_concern(session, current)
    for due in current.dues:
        record_disposal(
            session,
            DISPOSALS,
            record_class=due.record_class.value,
            rule=due.rule,
            subject_type=current.subject_type.value,
            subject_id=current.subject_id,
            cause=CAUSE,
            schedule_version=schedule.version,
            at=disposed_at,
        )
    classes = ",".join(current.record_classes)
    child_id = current.subject_id if current.subject_type is HoldSubject.child else None
    audit_trail.record(
        session,
        actor,
        "dispose",
        current.subject_type.value,
        current.subject_id,
        child_id,
        detail=audit_trail.detail(f"classes:{classes} schedule:{schedule.version}"),
    )
    for merged_id in current.merged_ids:  # each merged record's own history says where it went
        audit_trail.record(
            session,
            actor,
            "dispose",
            "child",
            merged_id,
            merged_id,
            detail=audit_trail.detail(f"with:{current.subject_id} schedule:{schedule.version}"),
        )
    if child_id is not None:
        outbox.publish(
            session,
            ChildDisposed(child_id=child_id, record_classes=current.record_classes, disposed_at=disposed_at),
        )
    session.commit()
    return current


def _dispose(
    session: Session,
    schedule: RetentionSchedule,
    now: datetime,
    due: list[DueRecord],
    outbox: Outbox,
    actor: Principal,
) -> list[DueRecord]:
    session.rollback()  # each record in its own transaction, from a clean start
    disposed = []
    for record in due:
        try:
            gone = _dispose_one(session, schedule, england_day(now), record, outbox, actor)
        except Exception:
            # One record that cannot go now (a database error, a rule that failed) must
            # not keep every other record past its time: it is tried again next run.
            session.rollback()
            log.exception(
                "retention: %s %s was not disposed of", record.subject_type.value, record.subject_id
            )
            continue
        if gone is not None:
            disposed.append(gone)
    return disposed


def dispose_due_records(
    session: Session,
    schedule: RetentionSchedule,
    now: datetime,
    *,
    dry_run: bool,
    outbox: Outbox | None = None,
    actor: Principal = RETENTION_JOB,
) -> list[DueRecord]:
    """What is past retention on ``now``'s day and not held, oldest due first; unless
    ``dry_run``, disposed of (each in one transaction, ``outbox`` telling the other
    services) and then only what went. A record that changed since it was judged (new
    activity, a hold placed) stays, so a real run never disposes of more than the dry
    run just before it listed."""
    plan = plan_disposal(session, schedule, now)
    if dry_run:
        return plan.due
    if outbox is None:
        raise ValueError("disposing of records tells the other services: give the outbox")
    return _dispose(session, schedule, now, plan.due, outbox, actor)


@dataclass(frozen=True)
class DisposalRun:
    """A run's answer: what was (or would be) disposed of, and what holds keep."""

    dry_run: bool
    as_of: datetime
    schedule_version: str
    records: list[DueRecord]
    held: list[DueRecord]


def run_disposal(
    session: Session,
    principal: Principal,
    schedule: RetentionSchedule,
    now: datetime,
    *,
    dry_run: bool,
    outbox: Outbox,
) -> DisposalRun:
    """A disposal run for ``principal`` (an auditor, or the job): a dry run lists what
    would go, a real one disposes of it; both list what holds keep. Every child listed
    but not disposed of is an audited read of its record (its id and due date). Commits."""
    plan = plan_disposal(session, schedule, now)
    records = plan.due if dry_run else _dispose(session, schedule, now, plan.due, outbox, principal)
    listed = [*(plan.due if dry_run else []), *plan.held]
    for record in listed:
        for child_id in record.ids if record.subject_type is HoldSubject.child else ():
            audit_trail.record(session, principal, "review_retention", "child", child_id, child_id)
    if listed:
        audit_trail.commit_read(session)
    return DisposalRun(dry_run, now, schedule.version, records, plan.held)


def disposal_run_body(run: DisposalRun) -> DisposalRunRead:
    """The run as its API (and command line) body."""

    def body(record: DueRecord) -> DueRecordRead:
        return DueRecordRead(
            subject_type=record.subject_type,
            subject_id=record.subject_id,
            record_classes=[
                ClassDueRead(record_class=d.record_class, rule=d.rule, due_on=d.due_on) for d in record.dues
            ],
            last_activity_on=record.last_activity_on,
            due_on=record.due_on,
        )

    return DisposalRunRead(
        dry_run=run.dry_run,
        as_of=run.as_of,
        schedule_version=run.schedule_version,
        records=[body(r) for r in run.records],
        held=[body(r) for r in run.held],
    )
