"""Business rules for referrals, as plain functions over a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from referral_api import audit_trail
from referral_api.access import (
    break_glass_notes,
    children_opened_by_break_glass,
    sees_all_cases,
    works_linked_cases,
)
from referral_api.children import service as children_service
from referral_api.children.models import ChildAgencyLink, LinkReason
from referral_api.children.schemas import ChildDetails
from referral_api.children.service import ChildRegistration
from referral_api.database import IDEMPOTENCY
from referral_api.referrals.clock import referral_decision_due
from referral_api.referrals.events import ReferralReceived, ReferralStatusChanged
from referral_api.referrals.models import (
    ConcernType,
    Referral,
    ReferralConcern,
    ReferralEvent,
    ReferralStatus,
    Urgency,
)
from referral_api.referrals.schemas import (
    Allocation,
    FirstContactCreate,
    LawfulBasisForSharing,
    ReferralCreate,
    ReferralRead,
    Referrer,
    TransitionCreate,
)
from referral_api.referrals.workflow import DECISIONS, PERMISSION_FOR, can_transition, is_open
from referral_api.stats.dimensions import age_band, age_on, reporting_day, reporting_periods
from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import restricted, utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.idempotency import (
    StoredResponse,
    agency_scope,
    request_fingerprint,
    run_once,
    stored_response_for,
)
from safeguarding_kit.new_rows import built
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement, UnknownAgency
from safeguarding_kit.partnership.policy import RULES, Permission, allows
from safeguarding_kit.periods import financial_quarter_of
from safeguarding_kit.problems import Conflict, FieldError, Forbidden, NotFound, Problem

IDEMPOTENCY_SCOPE = "POST /api/v1/referrals"
# Steps recorded at the same instant (a migrated referral received and decided on one
# date) are listed in workflow order.
WORKFLOW_ORDER = case(
    {ReferralStatus.received: 0, ReferralStatus.screening: 1, ReferralStatus.closed: 3},
    value=ReferralEvent.to_status,
    else_=2,
)


class ReferralNotFound(NotFound):
    slug, title = "referral-not-found", "Referral not found"


class DuplicateSourceReference(Conflict):
    slug, title = "duplicate-source-reference", "Source reference already used"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "This status cannot follow the current one"


class UnknownChild(Problem):
    """A referral names a child id that does not exist or that the caller cannot see; send the
    child's details instead."""

    status, slug, title = 422, "unknown-child", "Unknown child"


class UnknownService(Problem):
    """A referral is signposted to a service that is not on the partnership agreement's list."""

    status, slug, title = 422, "unknown-service", "Service not in the partnership agreement"


class FirstContactAlreadyRecorded(Conflict):
    slug, title = "first-contact-already-recorded", "First contact already recorded"


class InvalidFirstContact(Problem):
    """First contact must fall between the referral's receipt and now."""

    status, slug, title = 422, "invalid-first-contact", "First contact time not possible"


@dataclass(frozen=True)
class ReferralFilters:
    status: ReferralStatus | None = None
    concern_type: ConcernType | None = None
    source_agency_type: AgencyType | None = None
    allocated_worker: str | None = None
    child_id: uuid.UUID | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


# The answer to a referral POST: the first one, replayed for retries.
Submission = StoredResponse


def visible_referrals(principal: Principal, *, break_glass: bool = False) -> ColumnElement[bool]:
    """SQL condition: referrals the caller may work on (see :mod:`referral_api.access`);
    with ``break_glass``, for a read, also those about children the caller holds an open
    break-glass grant on."""
    if sees_all_cases(principal):
        return true()
    own = Referral.agency == principal.agency
    if works_linked_cases(principal):
        linked = select(ChildAgencyLink.child_id).where(ChildAgencyLink.agency == principal.agency)
        if break_glass:
            return or_(
                own,
                Referral.child_id.in_(linked),
                Referral.child_id.in_(children_opened_by_break_glass(principal)),
            )
        return or_(own, Referral.child_id.in_(linked))
    if allows(principal, Permission.read_sent_referrals):
        return own
    return false()


_CONCERNS_OF_REFERRALS = (
    select(ReferralConcern)
    .where(
        ReferralConcern.referral_id.in_(
            bindparam("referrals", expanding=True, type_=ReferralConcern.referral_id.type)
        )
    )
    .order_by(ReferralConcern.referral_id, ReferralConcern.concern_type)
)


def load_concerns(session: Session, referrals: list[Referral]) -> None:
    """Load the referrals' concerns in one query, as ``selectinload`` would, by a statement
    built once: the loader built its own on every read, which cost more than running it."""
    if not referrals:
        return
    found: dict[uuid.UUID, list[ReferralConcern]] = {referral.id: [] for referral in referrals}
    for concern in session.scalars(_CONCERNS_OF_REFERRALS, {"referrals": list(found)}):
        found[concern.referral_id].append(concern)
    for referral in referrals:
        set_committed_value(referral, "concerns", found[referral.id])


def _earlier_referrals() -> ScalarSelect[int]:
    # The number of referrals about a referral's child received before it, in (received_at,
    # id) order so that two received at the same instant come one after the other.
    before = aliased(Referral)
    return (
        select(func.count())
        .select_from(before)
        .where(
            before.child_id == Referral.child_id,
            or_(
                before.received_at < Referral.received_at,
                and_(before.received_at == Referral.received_at, before.id < Referral.id),
            ),
        )
        .correlate(Referral)
        .scalar_subquery()
    )


_EARLIER_REFERRALS = _earlier_referrals()
# Built once, the referral given at execution.
_EARLIER_REFERRALS_OF_ONE = (
    select(_EARLIER_REFERRALS).select_from(Referral).where(Referral.id == bindparam("referral"))
)


def _listed_referrals() -> Select[Referral, str | None, int]:
    # Each referral with its concerns and its number of earlier referrals, all in the page's
    # one statement: asked apart, they were two more round trips a page. Built once; each
    # list adds who may see what and its filters.
    concerns = (
        select(func.aggregate_strings(ReferralConcern.concern_type, ","))
        .where(ReferralConcern.referral_id == Referral.id)
        .correlate(Referral)
        .scalar_subquery()
    )
    return select(Referral, concerns, _EARLIER_REFERRALS)


_LISTED_REFERRALS = _listed_referrals()


def _concern_types(listed: str | None) -> list[ConcernType]:
    """The concern types of a listed referral's concerns (``_LISTED_REFERRALS``), in the
    order its ``concerns`` keeps them."""
    return sorted(ConcernType(kind) for kind in listed.split(",")) if listed else []


def previous_referral_count(session: Session, referral: Referral) -> int:
    """How many referrals about the same child came before ``referral`` (as a list counts
    them with each referral it lists)."""
    return int(session.scalar(_EARLIER_REFERRALS_OF_ONE, {"referral": referral.id}) or 0)


def to_read(
    session: Session,
    referral: Referral,
    *,
    now: datetime | None = None,
    previous: int | None = None,
    concern_types: list[ConcernType] | None = None,
) -> ReferralRead:
    """The referral as its API body (``previous`` and ``concern_types`` given when known,
    else asked and loaded)."""
    now = now or utc_now()
    allocation = (
        Allocation(
            team=referral.allocated_team, worker=referral.allocated_worker, agency=referral.allocated_agency
        )
        if referral.allocated_team
        else None
    )
    return ReferralRead(
        id=referral.id,
        child_id=referral.child_id,
        agency=referral.agency,
        agency_type=referral.agency_type,
        source_reference=referral.source_reference,
        # Checked on the way in (an address is the costliest field to check, and every
        # answer carries one): the stored values are taken as they are.
        referrer=Referrer.model_construct(
            name=referral.referrer_name,
            role=referral.referrer_role,
            phone=referral.referrer_phone,
            email=referral.referrer_email,
        ),
        concern_types=referral.concern_types if concern_types is None else concern_types,
        summary=referral.summary,
        lawful_basis=LawfulBasisForSharing.model_construct(
            basis=referral.lawful_basis, reason=referral.lawful_basis_reason
        ),
        urgency=referral.urgency,
        status=referral.status,
        received_at=referral.received_at,
        decision_due_at=referral.decision_due_at,
        decided_at=referral.decided_at,
        decision_overdue=referral.decided_at is None
        and is_open(referral.status)
        and now > referral.decision_due_at,
        first_contact_at=referral.first_contact_at,
        allocation=allocation,
        signposted_to=referral.signposted_to,
        previous_referrals=previous if previous is not None else previous_referral_count(session, referral),
        migrated=referral.migrated,
        version=referral.row_version,
    )


def _idempotency_key(principal: Principal, body: ReferralCreate, header_key: str | None) -> str | None:
    if header_key:
        return header_key
    return f"source-reference:{body.source_reference}" if body.source_reference else None


def submit_referral(
    session: Session, principal: Principal, body: ReferralCreate, idempotency_key: str | None, outbox: Outbox
) -> Submission:
    """Record a referral from the caller's agency, safe to retry: a retry with the same
    Idempotency-Key (or the same source reference) gets the first answer again."""
    request_hash = request_fingerprint(body.model_dump(mode="json"))
    key = _idempotency_key(principal, body, idempotency_key)
    try:
        return run_once(
            session,
            IDEMPOTENCY,
            scope=agency_scope(principal.agency, IDEMPOTENCY_SCOPE),
            key=key,
            fingerprint=request_hash,
            work=lambda: _create_referral(session, principal, body, request_hash, outbox),
        )
    except DuplicateSourceReference as duplicate:
        replay = _replay_for_source_reference(session, principal, body, request_hash)
        if replay is None:
            raise duplicate
        return replay


def _replay_for_source_reference(
    session: Session, principal: Principal, body: ReferralCreate, request_hash: str
) -> StoredResponse | None:
    """The first answer for a resent source reference with the same body (another key)."""
    first = session.scalar(
        select(Referral).where(
            Referral.agency == principal.agency, Referral.source_reference == body.source_reference
        )
    )
    if first is None or first.request_hash != request_hash:
        return None
    return stored_response_for(session, IDEMPOTENCY, resource_id=str(first.id))


def resolve_child(
    session: Session, principal: Principal, child: ChildDetails | None, child_id: uuid.UUID | None
) -> ChildRegistration:
    """The child a referral is about: ``child_id`` if the caller can see it (422 naming
    ``#/child_id`` otherwise), else the child ``child`` describes (matched, or a new record
    the caller writes: it is not added to the session)."""
    if child_id is not None:
        try:
            return ChildRegistration(children_service.get_child(session, principal, child_id), created=False)
        except children_service.ChildNotFound as exc:
            raise UnknownChild(
                "There is no child with this id that you can see; send the child's details instead.",
                errors=[FieldError(detail="no child with this id that you can see", pointer="#/child_id")],
            ) from exc
    assert child is not None
    return children_service.child_for_details(session, principal, child)


def new_referral(
    *,
    child_id: uuid.UUID,
    born: date,
    agency: str,
    agency_type: AgencyType,
    submitted_by: str,
    source_reference: str | None,
    request_hash: str,
    referrer: Referrer,
    summary: str,
    lawful_basis: LawfulBasisForSharing,
    urgency: Urgency,
    concern_types: list[ConcernType],
    received_at: datetime,
) -> Referral:
    """A received referral with the facts fixed at receipt (periods, age band, decision
    due), the same for a live referral and a migrated one."""
    quarter, month = reporting_periods(received_at)
    referral_id = uuid.uuid4()
    return built(
        Referral,
        id=referral_id,
        child_id=child_id,
        agency=agency,
        agency_type=agency_type,
        submitted_by=submitted_by,
        source_reference=source_reference,
        request_hash=request_hash,
        referrer_name=referrer.name,
        referrer_role=referrer.role,
        referrer_phone=referrer.phone,
        referrer_email=str(referrer.email) if referrer.email else None,
        summary=summary,
        lawful_basis=lawful_basis.basis,
        lawful_basis_reason=lawful_basis.reason,
        urgency=urgency,
        status=ReferralStatus.received,
        received_at=received_at,
        received_quarter=quarter,
        received_month=month,
        received_financial_quarter=financial_quarter_of(reporting_day(received_at)),
        age_band_at_referral=age_band(age_on(reporting_day(received_at), born)),
        decision_due_at=referral_decision_due(received_at),
        concerns=[built(ReferralConcern, referral_id=referral_id, concern_type=c) for c in concern_types],
    )


@contextmanager
def _refusing_a_reused_source_reference(session: Session, referral: Referral) -> Iterator[None]:
    """Write a new referral first, inside this: the agency's source_reference is unique,
    and a reused one must be the documented 409 (the transaction rolled back). Nothing else
    written with it may collide: the other rows are new."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateSourceReference(
            f"Agency '{referral.agency}' already has a different referral with source_reference "
            f"'{referral.source_reference}'."
        ) from exc


def flush_new_referral(session: Session, referral: Referral) -> None:
    """Flush a new referral (with a child registered for it) before anything else
    (linking a known child flushes too): a reused source_reference is the documented 409."""
    with _refusing_a_reused_source_reference(session, referral):
        session.flush()


def insert_new_referral(session: Session, referral: Referral, new_rows: list[Any], outbox: Outbox) -> None:
    """Write a new referral's rows (:func:`~safeguarding_kit.new_rows.insert_new`: the
    referral, its concerns and history, and a child registered for it with its first link)
    before anything else, the partners' webhooks read with them for the announcement to
    come: a reused source_reference is the documented 409."""
    with _refusing_a_reused_source_reference(session, referral):
        outbox.insert_new_before_emitting(session, new_rows)


def _create_referral(
    session: Session, principal: Principal, body: ReferralCreate, request_hash: str, outbox: Outbox
) -> Submission:
    registration = resolve_child(session, principal, body.child, body.child_id)
    child_id = registration.child.id
    received_at = utc_now()
    referral = new_referral(
        child_id=child_id,
        born=registration.child.date_of_birth,
        agency=principal.agency,
        agency_type=principal.agency_type,
        submitted_by=principal.sub,
        source_reference=body.source_reference,
        request_hash=request_hash,
        referrer=body.referrer,
        summary=body.summary,
        lawful_basis=body.lawful_basis,
        urgency=body.urgency,
        concern_types=body.concern_types,
        received_at=received_at,
    )
    history = built(
        ReferralEvent,
        referral_id=referral.id,
        from_status=None,
        to_status=ReferralStatus.received,
        actor_sub=principal.sub,
        actor_agency=principal.agency,
        occurred_at=received_at,
    )
    # Intake is the busiest write: its new rows go in one statement, not through the unit
    # of work. A child registered just now is written with the referral, with its first link.
    first_link = (
        children_service.new_child_link(child_id, principal.agency, LinkReason.referral)
        if registration.created
        else None
    )
    new_rows = [referral, *referral.concerns, history]
    if first_link is not None:
        new_rows = [registration.child, first_link[0], *new_rows]
    insert_new_referral(session, referral, new_rows, outbox)
    if first_link is None:
        children_service.link_agency(session, child_id, principal.agency, LinkReason.referral, outbox)
    audit_trail.record(session, principal, "create", "referral", referral.id, child_id)
    # Ids and types only: no names leave this service in events. A new child's link is
    # announced first, in the same statements as the referral.
    announced = ReferralReceived(
        referral_id=referral.id,
        child_id=child_id,
        urgency=body.urgency,
        concern_types=list(body.concern_types),
        source_agency_type=principal.agency_type,
    )
    outbox.publish_all(session, [announced] if first_link is None else [first_link[1], announced])
    # A child registered just now has no earlier referrals to count.
    previous = 0 if registration.created else None
    return Submission(
        201, to_read(session, referral, now=received_at, previous=previous).model_dump(mode="json")
    )


def get_referral(
    session: Session, principal: Principal, referral_id: uuid.UUID, *, break_glass: bool = False
) -> Referral:
    """The referral, if the caller may work on it (or, with ``break_glass``, read it under
    a grant); otherwise :class:`ReferralNotFound`."""
    referral = session.scalar(
        select(Referral).where(
            Referral.id == referral_id, visible_referrals(principal, break_glass=break_glass)
        )
    )
    if referral is None:
        hidden = session.scalar(select(Referral.child_id).where(Referral.id == referral_id))
        if hidden is not None:  # exists, but not for this caller: the refusal is audited too
            audit_trail.record(session, principal, "read", "referral", referral_id, hidden, outcome="denied")
            session.commit()
        raise ReferralNotFound(f"There is no referral {referral_id} that you can see.")
    load_concerns(session, [referral])
    return referral


def read_referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> ReferralRead:
    """The referral's body for the caller (break-glass grants count), the read audited."""
    referral = get_referral(session, principal, referral_id, break_glass=True)
    note = break_glass_notes(session, principal, [referral.child_id]).get(referral.child_id)
    audit_trail.record(session, principal, "read", "referral", referral.id, referral.child_id, detail=note)
    body = to_read(session, referral)
    audit_trail.commit_read(session)
    return body


def list_referrals(
    session: Session,
    principal: Principal,
    filters: ReferralFilters,
    *,
    limit: int,
    cursor: str | None,
    overdue_only: bool = False,
) -> tuple[list[ReferralRead], str | None]:
    """Referrals the caller may see, newest first, one page at a time; each read audited."""
    stmt = restricted(_LISTED_REFERRALS, visible_referrals(principal, break_glass=True))
    if filters.status is not None:
        stmt = stmt.where(Referral.status == filters.status)
    if filters.concern_type is not None:
        stmt = stmt.where(
            Referral.id.in_(
                select(ReferralConcern.referral_id).where(
                    ReferralConcern.concern_type == filters.concern_type
                )
            )
        )
    if filters.source_agency_type is not None:
        stmt = stmt.where(Referral.agency_type == filters.source_agency_type)
    if filters.allocated_worker is not None:
        stmt = stmt.where(Referral.allocated_worker == filters.allocated_worker)
    if filters.child_id is not None:
        stmt = stmt.where(Referral.child_id == filters.child_id)
    if filters.received_from is not None:
        stmt = stmt.where(Referral.received_at >= filters.received_from)
    if filters.received_to is not None:
        stmt = stmt.where(Referral.received_at < filters.received_to)
    now = utc_now()
    if overdue_only:
        stmt = stmt.where(
            Referral.decided_at.is_(None),
            Referral.status.in_([ReferralStatus.received, ReferralStatus.screening]),
            Referral.decision_due_at < now,
        )
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=Referral.received_at,
        id_column=Referral.id,
        limit=limit,
        cursor=cursor,
        whole_rows=True,
    )
    notes = break_glass_notes(session, principal, (referral.child_id for referral, _, _ in rows))
    for referral, _, _ in rows:
        audit_trail.record(
            session,
            principal,
            "list",
            "referral",
            referral.id,
            referral.child_id,
            detail=notes.get(referral.child_id),
        )
    audit_trail.commit_read(session)
    return [
        to_read(session, referral, now=now, previous=earlier, concern_types=_concern_types(concerns))
        for referral, concerns, earlier in rows
    ], next_cursor


def check_partner_agency(agreement: Agreement, agency: str, pointer: str) -> None:
    """422 naming ``pointer`` unless ``agency`` is an agency of the partnership agreement
    (an agency given a case may then read the child's record: it must be a partner)."""
    if not agreement.knows_agency(agency):
        raise UnknownAgency(
            f"'{agency}' is not an agency of the partnership agreement (GET /api/v1/partnership lists them).",
            errors=[FieldError(detail="not an agency of the partnership agreement", pointer=pointer)],
        )


def check_partnership_service(agreement: Agreement, service: str, pointer: str) -> None:
    """422 naming ``pointer`` and the known slugs unless ``service`` is one of the
    agreement's closed list of services children are signposted or referred on to."""
    if agreement.service(service) is None:
        known = ", ".join(s.slug for s in agreement.services) or "none"
        raise UnknownService(
            f"'{service}' is not a service of the partnership agreement; known services: {known}.",
            errors=[
                FieldError(detail=f"not a service of the partnership agreement ({known})", pointer=pointer)
            ],
        )


def transition_referral(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    step: TransitionCreate,
    if_match: str | None,
    outbox: Outbox,
    *,
    agreement: Agreement,
) -> Referral:
    """Move the referral along its workflow, recording who, when and why. Screening and
    decisions are the hub's referral decision team's (:data:`PERMISSION_FOR`); a case
    is allocated only to an agency of the partnership ``agreement``."""
    referral = get_referral(session, principal, referral_id)
    needed = PERMISSION_FOR.get(step.to, Permission.decide_referrals)
    if not allows(principal, needed):
        rule = RULES[needed].describe().removeprefix("Needs ").split(":")[0]
        raise Forbidden(f"Moving a referral to {step.to.value} needs {rule}.")
    if step.allocated_agency is not None:
        check_partner_agency(agreement, step.allocated_agency, "#/allocated_agency")
    if step.signposted_to is not None:
        check_partnership_service(agreement, step.signposted_to, "#/signposted_to")
    check_if_match(if_match, referral.row_version)
    if not can_transition(referral.status, step.to):
        raise InvalidTransition(f"A referral that is {referral.status.value} cannot become {step.to.value}.")
    now = utc_now()
    previous = referral.status
    referral.status = step.to
    if step.to in DECISIONS:
        referral.decided_at = now
    if step.to is ReferralStatus.allocated:
        referral.allocated_team = step.allocated_team
        referral.allocated_worker = step.allocated_worker
        referral.allocated_agency = step.allocated_agency or principal.agency
        children_service.link_agency(
            session, referral.child_id, referral.allocated_agency, LinkReason.allocation, outbox
        )
    if step.to is ReferralStatus.signposted:
        referral.signposted_to = step.signposted_to
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            from_status=previous,
            to_status=step.to,
            actor_sub=principal.sub,
            actor_agency=principal.agency,
            reason=step.reason,
            occurred_at=now,
        )
    )
    session.flush()
    audit_trail.record(
        session,
        principal,
        "transition",
        "referral",
        referral.id,
        referral.child_id,
        detail=f"{previous.value}->{step.to.value}",
    )
    outbox.publish(
        session,
        ReferralStatusChanged(
            referral_id=referral.id, child_id=referral.child_id, from_status=previous, to_status=step.to
        ),
    )
    session.commit()
    return referral


def record_first_contact(
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    contact: FirstContactCreate,
    if_match: str | None,
) -> Referral:
    """Record when a worker first spoke with the child (for timeliness figures), once."""
    referral = get_referral(session, principal, referral_id)
    if not works_linked_cases(principal):
        raise Forbidden("Only case workers record contact with the child.")
    check_if_match(if_match, referral.row_version)
    if referral.first_contact_at is not None:
        raise FirstContactAlreadyRecorded("First contact was already recorded for this referral.")
    if contact.contacted_at < referral.received_at or contact.contacted_at > utc_now():
        raise InvalidFirstContact(
            "First contact must be between the referral's receipt and now.",
            errors=[FieldError(detail="must be between received_at and now", pointer="#/contacted_at")],
        )
    referral.first_contact_at = contact.contacted_at
    session.flush()
    audit_trail.record(
        session, principal, "update", "referral", referral.id, referral.child_id, detail="first_contact"
    )
    session.commit()
    return referral


def history(session: Session, principal: Principal, referral_id: uuid.UUID) -> list[ReferralEvent]:
    """Every workflow step of a referral the caller may see (break-glass grants count),
    oldest first."""
    referral = get_referral(session, principal, referral_id, break_glass=True)
    events = list(
        session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.occurred_at, WORKFLOW_ORDER)
        )
    )
    note = break_glass_notes(session, principal, [referral.child_id]).get(referral.child_id)
    audit_trail.record(
        session, principal, "read", "referral_history", referral.id, referral.child_id, detail=note
    )
    session.commit()
    return events
