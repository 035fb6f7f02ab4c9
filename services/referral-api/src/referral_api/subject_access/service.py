"""Business rules for subject access requests: opening one with its statutory clock,
extending it once, assembling the package (from all three services or not at all),
the reviewer's decision, and what a release holds. Every step is audited against the
child the request is about.

The reviewer who decides must be someone other than the person who last assembled the
package: one person redacting and releasing a child's safeguarding record on their own
is what the two-person rule guards against (as for publishing a risk model). Nothing is
released without that decision, nor to a requester whose identity was not verified."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.children.models import Child
from referral_api.concerns.models import PersonOfConcern
from referral_api.subject_access import assembly, clock
from referral_api.subject_access.models import (
    RequestStatus,
    ReviewOutcome,
    SubjectAccessPackage,
    SubjectAccessRequest,
    SubjectType,
)
from referral_api.subject_access.schemas import (
    ItemOutcome,
    PackageItem,
    ReviewDecisionCreate,
    SubjectAccessRequestCreate,
    london_today,
)
from referral_api.subject_access.upstream import ChildExtracts
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.problems import Conflict, FieldError, Forbidden, NotFound, Problem

RESOURCE = "subject_access_request"
DECIDED = (RequestStatus.released, RequestStatus.withheld)


class SubjectAccessRequestNotFound(NotFound):
    slug, title = "subject-access-request-not-found", "Subject access request not found"


class UnknownSubject(Problem):
    """The child or person of concern a subject access request names is not held here."""

    status, slug, title = 422, "subject-access-unknown-subject", "No such subject"


class RequestDecided(Conflict):
    slug, title = "subject-access-request-decided", "The request was already decided"


class AlreadyExtended(Conflict):
    slug, title = "subject-access-already-extended", "The request was already extended"


class PackageNotAssembled(Conflict):
    slug, title = "subject-access-package-not-assembled", "No package has been assembled yet"


class NotReleased(Conflict):
    slug, title = "subject-access-not-released", "Nothing has been released"


class IdentityNotVerified(Conflict):
    """The requester's identity was not verified, so nothing can be released to them."""

    slug, title = "subject-access-identity-not-verified", "The requester's identity is not verified"


class ReviewByAnotherPerson(Forbidden):
    """The person who assembled a subject access package may not also decide its release."""

    slug, title = "subject-access-review-by-another-person", "The package is decided by another person"


class InvalidItemDecisions(Problem):
    """The reviewer's decisions name items the package does not hold, disclose what may not be
    released from here, or leave out items that need a decision; `errors` names each."""

    status, slug, title = 422, "subject-access-invalid-item-decisions", "The item decisions are not valid"


def subject_child(request: SubjectAccessRequest) -> uuid.UUID | None:
    """The child the request is about (its audit records name them), if it is about a child."""
    return request.subject_id if request.subject_type is SubjectType.child else None


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    request: SubjectAccessRequest,
    detail: str | None = None,
) -> None:
    audit_trail.record(
        session, principal, action, RESOURCE, request.id, subject_child(request), detail=detail
    )


def effective_due_on(request: SubjectAccessRequest) -> date:
    return request.extended_due_on or request.due_on


def respond_by(request: SubjectAccessRequest) -> date:
    return clock.respond_by(effective_due_on(request))


def overdue(request: SubjectAccessRequest, today: date) -> bool:
    return request.status not in DECIDED and today > respond_by(request)


def open_request(
    session: Session, principal: Principal, body: SubjectAccessRequestCreate
) -> SubjectAccessRequest:
    """A new request, due one calendar month after it was received; audited. Does not
    commit: the caller (the idempotent create) commits with its answer.
    :class:`UnknownSubject` when the subject is not held here."""
    held = Child if body.subject_type is SubjectType.child else PersonOfConcern
    if session.get(held, body.subject_id) is None:
        raise UnknownSubject(
            f"There is no {body.subject_type.value.replace('_', ' ')} {body.subject_id}.",
            errors=[FieldError(detail="not held here", pointer="#/subject_id")],
        )
    received_on = body.received_on or london_today()
    request = SubjectAccessRequest(
        id=uuid.uuid4(),
        subject_type=body.subject_type,
        subject_id=body.subject_id,
        reference=body.reference,
        received_on=received_on,
        requester_relationship=body.requester_relationship,
        identity_verified=body.identity_verified,
        status=RequestStatus.open,
        due_on=clock.due_on(received_on),
        opened_by=principal.sub,
        opened_by_agency=principal.agency,
        opened_at=utc_now(),
    )
    session.add(request)
    session.flush()
    _audit(session, principal, "open", request, detail=f"{body.subject_type.value} due:{request.due_on}")
    return request


def get_request(session: Session, request_id: uuid.UUID) -> SubjectAccessRequest:
    request = session.get(SubjectAccessRequest, request_id)
    if request is None:
        raise SubjectAccessRequestNotFound(f"There is no subject access request {request_id}.")
    return request


def read_request(session: Session, principal: Principal, request_id: uuid.UUID) -> SubjectAccessRequest:
    """The request, the read audited; commits."""
    request = get_request(session, request_id)
    _audit(session, principal, "read", request)
    audit_trail.commit_read(session)
    return request


def list_requests(
    session: Session,
    principal: Principal,
    *,
    status: RequestStatus | None,
    subject_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[SubjectAccessRequest], str | None]:
    """Requests newest first, filtered; each listed request an audited read."""
    stmt = select(SubjectAccessRequest)
    if status is not None:
        stmt = stmt.where(SubjectAccessRequest.status == status)
    if subject_id is not None:
        stmt = stmt.where(SubjectAccessRequest.subject_id == subject_id)
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=SubjectAccessRequest.opened_at,
        id_column=SubjectAccessRequest.id,
        limit=limit,
        cursor=cursor,
    )
    for request in rows:
        _audit(session, principal, "list", request)
    audit_trail.commit_read(session)
    return rows, next_cursor


def extend(
    session: Session, principal: Principal, request_id: uuid.UUID, reason: str, if_match: str
) -> SubjectAccessRequest:
    """Extend the request by two further months (three from receipt), once, while it is
    undecided; audited. Commits."""
    request = get_request(session, request_id)
    check_if_match(if_match, request.row_version)
    if request.status in DECIDED:
        raise RequestDecided("The request was decided; its time can no longer be extended.")
    if request.extended_due_on is not None:
        raise AlreadyExtended(
            f"The request was already extended, to {request.extended_due_on}; the law allows one extension."
        )
    request.extended_due_on = clock.extended_due_on(request.received_on)
    request.extension_reason = reason
    request.extended_at = utc_now()
    session.flush()
    _audit(session, principal, "extend", request, detail=f"due:{request.extended_due_on}")
    session.commit()
    return request


def package_of(session: Session, request: SubjectAccessRequest) -> SubjectAccessPackage | None:
    return session.get(SubjectAccessPackage, request.id)


def _surviving_child_id(session: Session, child_id: uuid.UUID) -> uuid.UUID:
    """The record a merged duplicate was merged into (the child itself otherwise)."""
    child = session.get(Child, child_id)
    seen = {child_id}
    while child is not None and child.merged_into_id is not None and child.merged_into_id not in seen:
        seen.add(child.merged_into_id)
        child = session.get_one(Child, child.merged_into_id)
    return child.id if child is not None else child_id


def assemble(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    extracts: ChildExtracts,
    agreement: Agreement,
) -> tuple[SubjectAccessRequest, SubjectAccessPackage]:
    """Assemble (or assemble again) the request's package from the three services, now; the
    request is then ``ready_for_review``. The other services are read first: when one cannot
    be, its problem is raised and nothing is written. Audited; commits."""
    request = get_request(session, request_id)
    if request.status in DECIDED:
        raise RequestDecided("The request was decided; its package is kept as it was reviewed.")
    if request.subject_type is SubjectType.child:
        child_id = _surviving_child_id(session, request.subject_id)
        risk, meetings = extracts.risk(child_id), extracts.meetings(child_id)
        items = assembly.child_package(session, child_id, risk, meetings, agreement)
    else:
        person = session.get(PersonOfConcern, request.subject_id)
        if person is None:
            raise UnknownSubject(f"The person of concern {request.subject_id} is no longer held here.")
        items = assembly.person_package(session, person, agreement)
    package = package_of(session, request)
    if package is None:
        package = SubjectAccessPackage(request_id=request.id)
        session.add(package)
    package.assembled_by = principal.sub
    package.assembled_by_agency = principal.agency
    package.items = [item.model_dump(mode="json") for item in items]
    request.status = RequestStatus.ready_for_review
    request.package_assembled_at = utc_now()
    session.flush()
    to_decide = sum(1 for item in items if item.decision_required)
    _audit(session, principal, "assemble", request, detail=f"{len(items)} items, {to_decide} to decide")
    session.commit()
    return request, package


def package_items(package: SubjectAccessPackage) -> list[PackageItem]:
    return [PackageItem.model_validate(item) for item in package.items]


def read_package(
    session: Session, principal: Principal, request_id: uuid.UUID, form: str
) -> tuple[SubjectAccessRequest, SubjectAccessPackage]:
    """The request and its package for the reviewer (``form``: json or html), the read
    audited; :class:`PackageNotAssembled` before it is. Commits."""
    request = get_request(session, request_id)
    package = package_of(session, request)
    if package is None:
        raise PackageNotAssembled("Assemble the package first (assembleSubjectAccessPackage).")
    _audit(session, principal, "read_package", request, detail=form)
    audit_trail.commit_read(session)
    return request, package


def _check_item_decisions(
    items: Sequence[PackageItem], decisions: ReviewDecisionCreate, *, releasing: bool
) -> dict[str, str]:
    by_id = {item.id: item for item in items}
    errors: list[FieldError] = []
    for index, decision in enumerate(decisions.items):
        item = by_id.get(decision.item_id)
        if item is None:
            errors.append(
                FieldError(detail="no such item in the package", pointer=f"#/items/{index}/item_id")
            )
        elif decision.decision is ItemOutcome.disclose and not item.releasable:
            errors.append(
                FieldError(
                    detail="police intelligence is not released from here: the recording agency decides",
                    pointer=f"#/items/{index}/decision",
                )
            )
    decided = {d.item_id: d.decision.value for d in decisions.items}
    if releasing:
        missing = [item.id for item in items if item.decision_required and item.id not in decided]
        if missing:
            errors.append(
                FieldError(detail=f"a decision is needed for: {', '.join(missing)}", pointer="#/items")
            )
    if errors:
        raise InvalidItemDecisions(
            f"{len(errors)} problem(s) with the item decisions; see errors.", errors=errors
        )
    return decided


def decide(
    session: Session,
    principal: Principal,
    request_id: uuid.UUID,
    body: ReviewDecisionCreate,
    if_match: str,
) -> SubjectAccessRequest:
    """The reviewer's decision: release the package as decided item by item (every flagged
    item decided, the requester's identity verified), or withhold it all. Someone other
    than the package's assembler decides. Audited; commits."""
    request = get_request(session, request_id)
    check_if_match(if_match, request.row_version)
    if request.status in DECIDED:
        raise RequestDecided(f"The request was already decided ({request.outcome}).")
    package = package_of(session, request)
    if package is None:
        raise PackageNotAssembled("Assemble the package and review it before deciding.")
    if (package.assembled_by, package.assembled_by_agency) == (principal.sub, principal.agency):
        raise ReviewByAnotherPerson(
            "You assembled this package: another member of the information governance team reviews and "
            "decides it."
        )
    releasing = body.outcome is ReviewOutcome.release
    if releasing and not request.identity_verified:
        raise IdentityNotVerified(
            "The requester's identity was not verified when the request was opened: withhold, or open a "
            "new request once it is (the month runs from then)."
        )
    decided = _check_item_decisions(package_items(package), body, releasing=releasing)
    request.outcome = body.outcome
    request.outcome_reasons = body.reasons
    request.item_decisions = decided
    request.decided_by = principal.sub
    request.decided_by_agency = principal.agency
    request.decided_at = utc_now()
    request.status = RequestStatus.released if releasing else RequestStatus.withheld
    session.flush()
    withheld = sum(1 for d in decided.values() if d == ItemOutcome.withhold.value)
    _audit(
        session,
        principal,
        "decide",
        request,
        detail=f"{body.outcome.value} disclose:{len(decided) - withheld} withhold:{withheld}",
    )
    session.commit()
    return request


def released_items(items: Sequence[PackageItem], decisions: Mapping[str, str]) -> list[PackageItem]:
    """What a release holds: every releasable item the reviewer did not withhold, and of the
    items that needed a decision only those they chose to disclose."""
    released = []
    for item in items:
        decision = decisions.get(item.id)
        if not item.releasable or decision == ItemOutcome.withhold.value:
            continue
        if item.decision_required and decision != ItemOutcome.disclose.value:
            continue
        released.append(item)
    return released


def release(
    session: Session, principal: Principal, request_id: uuid.UUID
) -> tuple[SubjectAccessRequest, list[PackageItem]]:
    """The request and the items its release holds, once the reviewer decided to release
    (:class:`NotReleased` before, or when they withheld it); each read audited. Commits."""
    request = get_request(session, request_id)
    package = package_of(session, request)
    if request.status is not RequestStatus.released or package is None:
        raise NotReleased(
            "Nothing is released before a reviewer decides to release it"
            + (" (this request was withheld)." if request.status is RequestStatus.withheld else ".")
        )
    items = released_items(package_items(package), request.item_decisions or {})
    _audit(session, principal, "release", request, detail=f"{len(items)} items")
    audit_trail.commit_read(session)
    return request, items
