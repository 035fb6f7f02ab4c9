"""Business rules of legal holds: placed, read, listed and released by the
information governance auditors, each audited and announced to the other services; and
the disposal records listed."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.children.models import Child
from referral_api.concerns.models import PersonOfConcern, PlaceOfConcern
from referral_api.retention.events import LegalHoldPlaced, LegalHoldReleased
from referral_api.retention.models import DisposalRecord, HoldSubject, LegalHold
from referral_api.retention.schemas import LegalHoldCreate, LegalHoldRelease
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem
from safeguarding_kit.retention.schedule import RecordClass


class LegalHoldNotFound(NotFound):
    slug, title = "legal-hold-not-found", "Legal hold not found"


class UnknownHoldSubject(Problem):
    """A legal hold names a child, person or place of concern that does not exist (or was
    already disposed of): nothing is held."""

    status, slug, title = 422, "unknown-hold-subject", "Nothing to hold with this id"


class HoldAlreadyReleased(Conflict):
    slug, title = "hold-already-released", "The legal hold was already released"


def _subject_exists(session: Session, subject_type: HoldSubject, subject_id: uuid.UUID) -> bool:
    """Whether the record exists, its row locked until the hold commits: a disposal of it
    running now finishes first (and the hold is refused), or one starting now passes it
    by until the next run (and then sees the hold)."""
    if subject_type is HoldSubject.child:
        row = select(Child.id).where(Child.id == subject_id)
    elif subject_type is HoldSubject.person_of_concern:
        row = select(PersonOfConcern.id).where(PersonOfConcern.id == subject_id)
    else:
        row = select(PlaceOfConcern.id).where(PlaceOfConcern.id == subject_id)
    return session.scalar(row.with_for_update()) is not None


def _hold_child(hold: LegalHold) -> uuid.UUID | None:
    return hold.subject_id if hold.subject_type is HoldSubject.child else None


def _hold_event_fields(hold: LegalHold) -> dict[str, object]:
    return {
        "hold_id": hold.id,
        "subject_type": hold.subject_type,
        "subject_id": hold.subject_id,
        "record_class": hold.record_class,
    }


def _what_is_held(hold: LegalHold) -> str:
    held = hold.record_class.value if hold.record_class else f"{hold.subject_type.value}:{hold.subject_id}"
    return audit_trail.detail(f"{held} reference:{hold.reference}")


def place_hold(session: Session, principal: Principal, data: LegalHoldCreate, outbox: Outbox) -> LegalHold:
    """A new active hold on what ``data`` names; :class:`UnknownHoldSubject` (422, naming
    ``#/subject_id``) when no such child, person or place exists. Audited (with the
    child's id for a hold on a child) and announced (``retention.hold_placed``). Does not
    commit: the caller (the idempotent create) commits with its answer."""
    if data.subject_id is not None and not _subject_exists(session, data.subject_type, data.subject_id):
        raise UnknownHoldSubject(
            f"There is no {data.subject_type.value} {data.subject_id} to hold.",
            errors=[FieldError(detail=f"no {data.subject_type.value} with this id", pointer="#/subject_id")],
        )
    hold = LegalHold(
        id=uuid.uuid4(),
        subject_type=data.subject_type,
        subject_id=data.subject_id,
        record_class=data.record_class,
        reason=data.reason,
        reference=data.reference,
        placed_by=principal.sub,
        placed_by_agency=principal.agency,
        placed_at=utc_now(),
    )
    session.add(hold)
    session.flush()
    audit_trail.record(
        session, principal, "place_hold", "legal_hold", hold.id, _hold_child(hold), detail=_what_is_held(hold)
    )
    outbox.publish(session, LegalHoldPlaced.model_validate(_hold_event_fields(hold)))
    return hold


def _get_hold(session: Session, hold_id: uuid.UUID) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise LegalHoldNotFound(f"There is no legal hold {hold_id}.")
    return hold


def read_hold(session: Session, principal: Principal, hold_id: uuid.UUID) -> LegalHold:
    """The hold; a hold on a child is an audited read of that child's record. Commits."""
    hold = _get_hold(session, hold_id)
    audit_trail.record(session, principal, "read", "legal_hold", hold.id, _hold_child(hold))
    audit_trail.commit_read(session)
    return hold


def release_hold(
    session: Session,
    principal: Principal,
    hold_id: uuid.UUID,
    data: LegalHoldRelease,
    if_match: str | None,
    outbox: Outbox,
) -> LegalHold:
    """Release the hold if ``If-Match`` names its current version (428/412 otherwise;
    409 if it was already released): what it held follows the schedule again. Audited
    and announced (``retention.hold_released``); commits."""
    hold = _get_hold(session, hold_id)
    check_if_match(if_match, hold.row_version)
    if hold.released_at is not None:
        raise HoldAlreadyReleased(f"The legal hold {hold_id} was released on {hold.released_at:%Y-%m-%d}.")
    hold.released_at = utc_now()
    hold.released_by = principal.sub
    hold.released_by_agency = principal.agency
    hold.release_reason = data.reason
    session.flush()
    audit_trail.record(
        session,
        principal,
        "release_hold",
        "legal_hold",
        hold.id,
        _hold_child(hold),
        detail=_what_is_held(hold),
    )
    outbox.publish(session, LegalHoldReleased.model_validate(_hold_event_fields(hold)))
    session.commit()
    return hold


def list_holds(
    session: Session,
    principal: Principal,
    *,
    active: bool | None,
    subject_type: HoldSubject | None,
    subject_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[LegalHold], str | None]:
    """Holds newest first, filtered; each listed hold on a child an audited read. Commits."""
    stmt = select(LegalHold)
    if active is not None:
        stmt = stmt.where(LegalHold.released_at.is_(None) if active else LegalHold.released_at.is_not(None))
    if subject_type is not None:
        stmt = stmt.where(LegalHold.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(LegalHold.subject_id == subject_id)
    rows, next_cursor = paginate(
        session, stmt, created_at=LegalHold.placed_at, id_column=LegalHold.id, limit=limit, cursor=cursor
    )
    for hold in rows:
        audit_trail.record(session, principal, "list", "legal_hold", hold.id, _hold_child(hold))
    audit_trail.commit_read(session)
    return rows, next_cursor


def list_disposals(
    session: Session,
    *,
    subject_id: uuid.UUID | None,
    record_class: RecordClass | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[DisposalRecord], str | None]:
    """Disposal records, newest first (ids and classes only: nothing to audit as a read)."""
    stmt = select(DisposalRecord)
    if subject_id is not None:
        stmt = stmt.where(DisposalRecord.subject_id == subject_id)
    if record_class is not None:
        stmt = stmt.where(DisposalRecord.record_class == record_class.value)
    return paginate(
        session,
        stmt,
        created_at=DisposalRecord.disposed_at,
        id_column=DisposalRecord.id,
        limit=limit,
        cursor=cursor,
    )
