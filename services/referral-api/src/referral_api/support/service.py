"""Business rules for a child's support: the hub offers it to a provider (a service of the
partnership agreement or an agency), the provider's case workers (or the hub's) record its
start, its contacts and its end; anyone who may see the child reads it. Every read and
write is audited with the child's id; the child's risk level at each end comes from the risk
service's events (:mod:`referral_api.support.risk_levels`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, select, true
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import break_glass_notes, sees_all_cases
from referral_api.children import service as children_service
from referral_api.children.models import Child, LinkReason
from referral_api.referrals.service import check_partner_agency, check_partnership_service
from referral_api.support import risk_levels
from referral_api.support.events import SupportEnded, SupportEventProvider, SupportOffered, SupportStarted
from referral_api.support.models import Support, SupportContact, SupportKind
from referral_api.support.rules import (
    Refusal,
    Step,
    SupportStatus,
    contact_refusal,
    end_refusal,
    start_refusal,
    status_of,
    step_refusal,
    waiting_days,
)
from referral_api.support.schemas import (
    ContactCreate,
    ContactRead,
    SupportEnd,
    SupportOffer,
    SupportProvider,
    SupportRead,
    SupportStart,
)
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.partnership.policy import Permission, allows
from safeguarding_kit.periods import england_day
from safeguarding_kit.problems import Conflict, FieldError, Forbidden, NotFound, Problem


class SupportNotFound(NotFound):
    slug, title = "support-not-found", "Support not found"


class SupportContactNotFound(NotFound):
    slug, title = "support-contact-not-found", "Support contact not found"


class SupportStepNotPossible(Conflict):
    """The support's state does not allow this step now: it started already, it ended
    already, or (for a contact) it has not started yet."""

    slug, title = "support-step-not-possible", "That cannot happen to this support now"


class InvalidSupport(Problem):
    """The support's details are not possible: no provider, a service given to an agency other
    than its provider, or dates in the future or out of order (requested, started, contacts,
    ended); `errors` names the field."""

    status, slug, title = 422, "invalid-support", "Support details not possible"


@dataclass(frozen=True)
class SupportFilters:
    status: SupportStatus | None = None
    kind: SupportKind | None = None
    service: str | None = None
    provider_agency: str | None = None


def to_read(support: Support) -> SupportRead:
    """The support as its API body."""
    started = support.started_at
    return SupportRead(
        id=support.id,
        child_id=support.child_id,
        kind=support.kind,
        provider=SupportProvider(service=support.provider_service, agency=support.provider_agency),
        offered_by=support.offered_by,
        requested_at=support.requested_at,
        started_at=started,
        waiting_days=waiting_days(support.requested_at, started) if started is not None else None,
        ended_at=support.ended_at,
        end_reason=support.end_reason,
        status=status_of(started, support.ended_at),
        risk_level_at_start=support.risk_level_at_start,
        risk_level_at_end=support.risk_level_at_end,
        version=support.row_version,
    )


def _provider_of(support: Support) -> SupportEventProvider:
    return SupportEventProvider(service=support.provider_service, agency=support.provider_agency)


def resolve_provider(agreement: Agreement, provider: SupportProvider) -> tuple[str | None, str | None]:
    """(service, agency) providing the support: a service of the agreement (provided by its
    ``provider_agency`` unless it has none and ``agency`` names one) and/or an agency of the
    agreement; 422 naming the field otherwise."""
    if provider.service is None and provider.agency is None:
        raise InvalidSupport(
            "Name the provider: a service of the partnership agreement, an agency of it, or both.",
            errors=[FieldError(detail="give service, agency or both", pointer="#/provider")],
        )
    agency = provider.agency
    if agency is not None:
        check_partner_agency(agreement, agency, "#/provider/agency")
    if provider.service is None:
        return None, agency
    check_partnership_service(agreement, provider.service, "#/provider/service")
    entry = agreement.service(provider.service)
    provided_by = entry.provider_agency if entry is not None else None
    if provided_by is not None and agency is not None and agency != provided_by:
        raise InvalidSupport(
            f"The service '{provider.service}' is provided by '{provided_by}', not '{agency}'.",
            errors=[
                FieldError(detail=f"the service is provided by {provided_by}", pointer="#/provider/agency")
            ],
        )
    return provider.service, agency or provided_by


def offer_support(
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    body: SupportOffer,
    outbox: Outbox,
    *,
    agreement: Agreement,
) -> Support:
    """A support offered to the child by the caller's agency (the hub), provided by the
    service or agency ``body`` names. The providing agency is linked to the child, so its
    case workers see the child here and (told by ``child.agency_linked``) in the risk
    service. Audited and announced (``support.offered``). Does not commit: the caller (the
    idempotent create) commits with its answer."""
    child = children_service.get_child(session, principal, child_id)
    service, agency = resolve_provider(agreement, body.provider)
    now = utc_now()
    requested_at = body.requested_at or now
    if requested_at > now:
        raise InvalidSupport(
            "Support cannot be requested in the future.",
            errors=[FieldError(detail="is in the future", pointer="#/requested_at")],
        )
    support = Support(
        child_id=child.id,
        kind=body.kind,
        provider_service=service,
        provider_agency=agency,
        offered_by=principal.agency,
        requested_at=requested_at,
        created_at=now,
    )
    session.add(support)
    session.flush()
    if agency is not None:
        children_service.link_agency(session, child.id, agency, LinkReason.support, outbox)
    audit_trail.record(
        session, principal, "create", "support", support.id, child.id, detail=f"kind:{body.kind.value}"
    )
    outbox.publish(
        session,
        SupportOffered(
            support_id=support.id, child_id=child.id, kind=support.kind, provider=_provider_of(support)
        ),
    )
    return support


def _visible(principal: Principal, *, break_glass: bool = False) -> ColumnElement[bool]:
    """Supports of children the caller may work on (with ``break_glass``, for a read, also
    of children opened to the caller by break-glass)."""
    return Support.child_id.in_(
        select(Child.id).where(children_service.visible_children(principal, break_glass=break_glass))
    )


def get_support(
    session: Session, principal: Principal, support_id: uuid.UUID, *, audit: bool = True
) -> Support:
    """The support if the caller may see its child, else :class:`SupportNotFound` (the
    refusal audited). With ``audit`` it is a read (audited here, and open under break-glass);
    without, the caller is about to change it, which break-glass never allows."""
    support = session.scalar(
        select(Support).where(Support.id == support_id, _visible(principal, break_glass=audit))
    )
    if support is None:
        hidden = session.get(Support, support_id)
        if hidden is not None:  # exists, but not for this caller: audit the refusal
            audit_trail.record(
                session, principal, "read", "support", support_id, hidden.child_id, outcome="denied"
            )
            session.commit()
        raise SupportNotFound(f"There is no support {support_id} that you can see.")
    if audit:
        note = break_glass_notes(session, principal, [support.child_id]).get(support.child_id)
        audit_trail.record(session, principal, "read", "support", support.id, support.child_id, detail=note)
    return support


def read_support(session: Session, principal: Principal, support_id: uuid.UUID) -> Support:
    """The support for a caller who may see its child; the read audited and committed."""
    support = get_support(session, principal, support_id)
    audit_trail.commit_read(session)
    return support


def _check_may_record(session: Session, principal: Principal, support: Support, step: Step) -> None:
    """The providing agency's case workers record a support's progress, and the hub's; anyone
    else who may see the child is refused (403), the refusal audited."""
    provides = support.provider_agency is not None and support.provider_agency == principal.agency
    if not (provides or allows(principal, Permission.arrange_support)):
        audit_trail.record(
            session, principal, step.value, "support", support.id, support.child_id, outcome="denied"
        )
        session.commit()
        raise Forbidden(
            "Only case workers of the agency providing this support, or of the hub's own teams, "
            "record its start, contacts and end."
        )


def _check_step(step: Step, support: Support) -> None:
    refusal = step_refusal(step, support.started_at, support.ended_at)
    if refusal is not None:
        raise SupportStepNotPossible(refusal)


def _refuse(refusal: Refusal | None) -> None:
    """422 naming the field, when the rules refused the dates or reason given."""
    if refusal is not None:
        raise InvalidSupport(
            refusal.reason, errors=[FieldError(detail=refusal.reason, pointer=f"#/{refusal.field}")]
        )


def _support_for_change(
    session: Session, principal: Principal, support_id: uuid.UUID, if_match: str | None, step: Step
) -> Support:
    """The support the caller may record ``step`` of, at the version ``if_match`` names."""
    support = get_support(session, principal, support_id, audit=False)
    _check_may_record(session, principal, support, step)
    if step is not Step.record_contact:
        check_if_match(if_match, support.row_version)
    _check_step(step, support)
    return support


def start_support(
    session: Session,
    principal: Principal,
    support_id: uuid.UUID,
    body: SupportStart,
    if_match: str | None,
    outbox: Outbox,
) -> Support:
    """Record the start (the waiting time ends here) with the child's risk level then.
    Audited and announced (``support.started``); commits."""
    support = _support_for_change(session, principal, support_id, if_match, Step.start)
    _refuse(start_refusal(support.requested_at, body.started_at, utc_now()))
    support.started_at = body.started_at
    support.start_recorded_at = utc_now()
    support.risk_level_at_start = risk_levels.level_for(session, support.child_id, body.started_at)
    session.flush()
    audit_trail.record(session, principal, "start", "support", support.id, support.child_id)
    outbox.publish(
        session,
        SupportStarted(
            support_id=support.id,
            child_id=support.child_id,
            kind=support.kind,
            provider=_provider_of(support),
        ),
    )
    session.commit()
    return support


def end_support(
    session: Session,
    principal: Principal,
    support_id: uuid.UUID,
    body: SupportEnd,
    if_match: str | None,
    outbox: Outbox,
) -> Support:
    """Record the end and why, with the child's risk level then (an offer may end before it
    starts). Audited and announced (``support.ended``); commits."""
    support = _support_for_change(session, principal, support_id, if_match, Step.end)
    _refuse(end_refusal(support.requested_at, support.started_at, body.ended_at, body.reason, utc_now()))
    support.ended_at = body.ended_at
    support.end_reason = body.reason
    support.end_recorded_at = utc_now()
    if support.started_at is not None:
        support.risk_level_at_end = risk_levels.level_for(session, support.child_id, body.ended_at)
    session.flush()
    audit_trail.record(
        session,
        principal,
        "end",
        "support",
        support.id,
        support.child_id,
        detail=f"reason:{body.reason.value}",
    )
    outbox.publish(
        session,
        SupportEnded(
            support_id=support.id,
            child_id=support.child_id,
            kind=support.kind,
            provider=_provider_of(support),
            end_reason=body.reason,
        ),
    )
    session.commit()
    return support


def record_contact(
    session: Session, principal: Principal, support_id: uuid.UUID, body: ContactCreate
) -> SupportContact:
    """A contact with the child under a started support, recorded by the caller's agency;
    audited. Does not commit: the caller (the idempotent create) commits with its answer."""
    support = _support_for_change(session, principal, support_id, None, Step.record_contact)
    assert support.started_at is not None  # _check_step refused a support not yet started
    _refuse(contact_refusal(body.contacted_on, support.started_at, support.ended_at, england_day(utc_now())))
    contact = SupportContact(
        support_id=support.id,
        contacted_on=body.contacted_on,
        setting=body.setting,
        engagement=body.engagement,
        recorded_by=principal.agency,
        recorded_at=utc_now(),
    )
    session.add(contact)
    session.flush()
    audit_trail.record(
        session,
        principal,
        "create",
        "support_contact",
        contact.id,
        support.child_id,
        detail=f"support:{support.id}",
    )
    return contact


def contact_to_read(contact: SupportContact) -> ContactRead:
    return ContactRead.model_validate(contact)


def _audit_listed(session: Session, principal: Principal, supports: list[Support]) -> None:
    notes = break_glass_notes(session, principal, (s.child_id for s in supports))
    for support in supports:
        audit_trail.record(
            session,
            principal,
            "list",
            "support",
            support.id,
            support.child_id,
            detail=notes.get(support.child_id),
        )
    audit_trail.commit_read(session)


def list_child_support(
    session: Session, principal: Principal, child_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Support], str | None]:
    """The child's supports, newest first, for a caller who may see the child (break-glass
    grants count; 404 otherwise, the refusal audited); each listed support an audited read."""
    child = children_service.get_child(session, principal, child_id, break_glass=True)
    rows, next_cursor = paginate(
        session,
        select(Support).where(Support.child_id == child.id),
        created_at=Support.created_at,
        id_column=Support.id,
        limit=limit,
        cursor=cursor,
    )
    _audit_listed(session, principal, rows)
    return rows, next_cursor


def _with_status(stmt: Select[Support], status: SupportStatus) -> Select[Support]:
    if status is SupportStatus.ended:
        return stmt.where(Support.ended_at.is_not(None))
    started = (
        Support.started_at.is_not(None) if status is SupportStatus.active else Support.started_at.is_(None)
    )
    return stmt.where(Support.ended_at.is_(None), started)


def list_provided_support(
    session: Session, principal: Principal, filters: SupportFilters, *, limit: int, cursor: str | None
) -> tuple[list[Support], str | None]:
    """Supports the caller's agency provides (the hub's own teams: any provider's), newest
    first, filtered; each listed support an audited read."""
    mine = true() if sees_all_cases(principal) else Support.provider_agency == principal.agency
    stmt = select(Support).where(and_(mine, _visible(principal)))
    if filters.status is not None:
        stmt = _with_status(stmt, filters.status)
    if filters.kind is not None:
        stmt = stmt.where(Support.kind == filters.kind)
    if filters.service is not None:
        stmt = stmt.where(Support.provider_service == filters.service)
    if filters.provider_agency is not None:
        stmt = stmt.where(Support.provider_agency == filters.provider_agency)
    rows, next_cursor = paginate(
        session, stmt, created_at=Support.created_at, id_column=Support.id, limit=limit, cursor=cursor
    )
    _audit_listed(session, principal, rows)
    return rows, next_cursor


def list_contacts(
    session: Session, principal: Principal, support_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[SupportContact], str | None]:
    """The support's contacts in the order they were recorded, for a caller who may see
    its child; each listed contact an audited read."""
    support = get_support(session, principal, support_id)
    rows, next_cursor = paginate(
        session,
        select(SupportContact).where(SupportContact.support_id == support.id),
        created_at=SupportContact.recorded_at,
        id_column=SupportContact.id,
        limit=limit,
        cursor=cursor,
        oldest_first=True,
    )
    note = break_glass_notes(session, principal, [support.child_id]).get(support.child_id)
    for contact in rows:
        audit_trail.record(
            session, principal, "list", "support_contact", contact.id, support.child_id, detail=note
        )
    audit_trail.commit_read(session)
    return rows, next_cursor


def read_contact(
    session: Session, principal: Principal, support_id: uuid.UUID, contact_id: uuid.UUID
) -> SupportContact:
    """One contact of a support whose child the caller may see; the read audited."""
    support = get_support(session, principal, support_id)
    contact = session.scalar(
        select(SupportContact).where(SupportContact.id == contact_id, SupportContact.support_id == support.id)
    )
    if contact is None:
        audit_trail.commit_read(session)
        raise SupportContactNotFound(f"Support {support_id} has no contact {contact_id}.")
    audit_trail.record(session, principal, "read", "support_contact", contact.id, support.child_id)
    audit_trail.commit_read(session)
    return contact
