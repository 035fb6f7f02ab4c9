"""HTTP handlers for subject access requests: open, list, read, extend, assemble the
package, read it (JSON and HTML), decide, and read the released document."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse

from referral_api.deps import SubjectAccessHandler
from referral_api.subject_access import assembly, service
from referral_api.subject_access.models import RequestStatus, SubjectAccessPackage, SubjectAccessRequest
from referral_api.subject_access.package_html import (
    CONTENT_SECURITY_POLICY,
    DocumentHeader,
    release_document,
    review_document,
)
from referral_api.subject_access.schemas import (
    Decision,
    ExtensionCreate,
    ReviewDecisionCreate,
    SubjectAccessPackageRead,
    SubjectAccessRequestCreate,
    SubjectAccessRequestRead,
    london_today,
)
from referral_api.subject_access.upstream import ChildExtracts, UpstreamServices
from safeguarding_kit.auth.bearer import bearer_token
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/subject-access-requests", tags=["subject-access"])

HTML_EXAMPLE = "\n".join(
    (
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "...",
        "<dt>Referrer</dt>",
        "<dd>[redacted: referrer]</dd>",
        "</html>",
    )
)


async def child_extracts(request: Request) -> ChildExtracts:
    """The risk and meetings services' extracts, asked with the caller's own token."""
    upstream: UpstreamServices = request.app.state.subject_access_upstream
    return upstream.for_caller(bearer_token(request))


Extracts = Annotated[ChildExtracts, Depends(child_extracts)]


def _request_body(request: SubjectAccessRequest) -> SubjectAccessRequestRead:
    decision = None
    if request.outcome is not None and request.decided_at is not None:
        decision = Decision(
            outcome=request.outcome,
            reasons=request.outcome_reasons or "",
            decided_by=request.decided_by or "",
            decided_by_agency=request.decided_by_agency or "",
            decided_at=request.decided_at,
        )
    return SubjectAccessRequestRead(
        id=request.id,
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        reference=request.reference,
        received_on=request.received_on,
        requester_relationship=request.requester_relationship,
        identity_verified=request.identity_verified,
        status=request.status,
        due_on=request.due_on,
        extended_due_on=request.extended_due_on,
        extension_reason=request.extension_reason,
        extended_at=request.extended_at,
        respond_by=service.respond_by(request),
        overdue=service.overdue(request, london_today()),
        opened_by_agency=request.opened_by_agency,
        opened_at=request.opened_at,
        package_assembled_at=request.package_assembled_at,
        decision=decision,
        version=request.row_version,
    )


def _request_response(request: SubjectAccessRequest, status_code: int = 200) -> VersionedJSONResponse:
    location = {"Location": f"/api/v1/subject-access-requests/{request.id}"}
    return json_with_etag(_request_body(request), request.row_version, status_code, location)


def _package_response(request: SubjectAccessRequest, package: SubjectAccessPackage) -> VersionedJSONResponse:
    items = service.package_items(package)
    redactions: dict[str, int] = {}
    for item in items:
        for f in item.fields:
            for reason in ([f.redacted] if f.redacted else []) + f.redactions:
                redactions[reason.value] = redactions.get(reason.value, 0) + 1
    body = SubjectAccessPackageRead(
        request_id=request.id,
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        status=request.status,
        assembled_by=package.assembled_by,
        assembled_by_agency=package.assembled_by_agency,
        assembled_at=request.package_assembled_at or request.opened_at,
        items=items,
        decisions_required=[item.id for item in items if item.decision_required],
        redactions=redactions,
        version=request.row_version,
    )
    return json_with_etag(body, request.row_version)


def _header(http_request: Request, request: SubjectAccessRequest) -> DocumentHeader:
    return DocumentHeader(
        request_id=str(request.id),
        reference=request.reference,
        subject_type=request.subject_type.value,
        received_on=request.received_on,
        due_on=service.effective_due_on(request),
        partnership=http_request.app.state.agreement.partnership,
    )


def _html(document: str) -> HTMLResponse:
    return HTMLResponse(document, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def _html_responses(description: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {"text/html": {"example": HTML_EXAMPLE}}, "description": description}}


@router.post(
    "",
    operation_id="openSubjectAccessRequest",
    summary="Open a subject access request for a child or a person of concern",
    status_code=status.HTTP_201_CREATED,
    response_model=SubjectAccessRequestRead,
    responses=problem_responses(401, 403, 422),
)
def open_subject_access_request(
    body: SubjectAccessRequestCreate,
    session: SessionDep,
    principal: SubjectAccessHandler,
    once: IdempotentCreate,
) -> JSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Records a request (UK GDPR Art. 15)
    for everything the partnership holds about a child (`GET /api/v1/children`) or a
    person of concern (`GET /api/v1/persons-of-concern`): when it reached the
    partnership (`received_on`, today by default), who asked and whether their identity
    was verified. It is due one calendar month later (`due_on`: 31 January gives 28
    February, or 29 in a leap year); `respond_by` moves a weekend or bank holiday to the
    next working day. 422 when the subject is not held here. Audited against the child."""

    def open_request() -> JSONResponse:
        return _request_response(service.open_request(session, principal, body), status.HTTP_201_CREATED)

    return once.answer(session, principal, body, open_request)


@router.get(
    "",
    operation_id="listSubjectAccessRequests",
    summary="Subject access requests, newest first",
    response_model=Page[SubjectAccessRequestRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_subject_access_requests(
    session: SessionDep,
    principal: SubjectAccessHandler,
    status_filter: Annotated[
        RequestStatus | None, Query(alias="status", description="Only requests in this status.")
    ] = None,
    subject_id: Annotated[
        uuid.UUID | None, Query(description="Only requests about this child or person.")
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[SubjectAccessRequestRead]:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Newest first, each with its due
    date and whether it is overdue; each listed request is an audited read."""
    rows, next_cursor = service.list_requests(
        session, principal, status=status_filter, subject_id=subject_id, limit=limit, cursor=cursor
    )
    return Page[SubjectAccessRequestRead](items=[_request_body(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{request_id}",
    operation_id="getSubjectAccessRequest",
    summary="A subject access request, its due date and decision",
    response_model=SubjectAccessRequestRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_subject_access_request(
    request_id: uuid.UUID, session: SessionDep, principal: SubjectAccessHandler
) -> VersionedJSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). The request with its `ETag`: its
    status, `due_on` (one calendar month after `received_on`), `extended_due_on` once
    extended, `respond_by` and the reviewer's decision."""
    return _request_response(service.read_request(session, principal, request_id))


@router.post(
    "/{request_id}/extension",
    operation_id="extendSubjectAccessRequest",
    summary="Extend the time to respond by two further months",
    response_model=SubjectAccessRequestRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A request already extended is 409 (`subject-access-already-extended`)."
    ),
)
def extend_subject_access_request(
    request_id: uuid.UUID,
    body: ExtensionCreate,
    session: SessionDep,
    principal: SubjectAccessHandler,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). For a complex request (UK GDPR Art.
    12(3)): it is then due three calendar months after `received_on`
    (`extended_due_on`), with the `reason`. Once only, and only before it is decided
    (409). Needs `If-Match`. Audited."""
    return _request_response(service.extend(session, principal, request_id, body.reason, if_match))


@router.post(
    "/{request_id}/package",
    operation_id="assembleSubjectAccessPackage",
    summary="Assemble the package from the three services now",
    response_model=SubjectAccessPackageRead,
    responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
    openapi_extra=naturally_idempotent(
        "Assembling again replaces the package with what the three services hold now, and nothing "
        "else; once the request is decided it is 409 and the package is kept as it was reviewed."
    ),
)
def assemble_subject_access_package(
    request_id: uuid.UUID,
    http_request: Request,
    session: SessionDep,
    principal: SubjectAccessHandler,
    extracts: Extracts,
) -> VersionedJSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Gathers everything held about the
    subject, now: for a child, their record, referrals with their history and decisions,
    third-party information, missing episodes and return-home interviews, the support
    offered to them with its contacts, and who read their record (by agency and role) from
    this service; their risk assessments and level over time from the risk service; the
    agenda items, decisions and actions about them from the meetings service (each read
    with your token and audited there). Each item says which service it came from. What
    identifies other people is redacted and marked (`[redacted: referrer]`): referrers
    (their agency is kept), third-party information givers (and their agency), staff
    (their agency is kept), other children named in free text (matched on the given and
    family names of the children held here), and contact details. Items a person must
    decide on are flagged: third-party information and return-home interview notes
    (serious harm), text that named other children; police intelligence (persons and
    places of concern, and disruption actions that name the child) is flagged and never
    releasable from here. The request is then `ready_for_review`. When the risk or
    meetings service cannot be reached it is 503 (502 when its answer cannot be read), and
    nothing is written. 409 once decided."""
    request, package = service.assemble(
        session, principal, request_id, extracts, http_request.app.state.agreement
    )
    return _package_response(request, package)


@router.get(
    "/{request_id}/package",
    operation_id="getSubjectAccessPackage",
    summary="The package for review (JSON)",
    response_model=SubjectAccessPackageRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def get_subject_access_package(
    request_id: uuid.UUID, session: SessionDep, principal: SubjectAccessHandler
) -> VersionedJSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Every item with its source service,
    its redactions marked, its flags, and `decisions_required`: the items the reviewer
    must decide `disclose` or `withhold` on before a release. The `ETag` is the
    request's, for `If-Match` on the decision. 409 before the package is assembled.
    Audited."""
    request, package = service.read_package(session, principal, request_id, "json")
    return _package_response(request, package)


@router.get(
    "/{request_id}/package.html",
    operation_id="getSubjectAccessPackageDocument",
    summary="The package for review, as a readable document",
    response_class=HTMLResponse,
    responses={
        **_html_responses("The package as HTML, for review"),
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def get_subject_access_package_document(
    request_id: uuid.UUID, http_request: Request, session: SessionDep, principal: SubjectAccessHandler
) -> HTMLResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). The same content as
    `getSubjectAccessPackage`, as an HTML document marked for review (not for release):
    each item with its source, flags and the decision it needs; redactions show as
    `[redacted: referrer]` and the like. 409 before the package is assembled. Audited."""
    request, package = service.read_package(session, principal, request_id, "html")
    items = service.package_items(package)
    return _html(
        review_document(
            _header(http_request, request),
            items,
            assembled_at=request.package_assembled_at or request.opened_at,
            assembled_by_agency=assembly.agency_names(http_request.app.state.agreement)(
                package.assembled_by_agency
            )
            or package.assembled_by_agency,
            decisions_required=[item.id for item in items if item.decision_required],
        )
    )


@router.post(
    "/{request_id}/decision",
    operation_id="decideSubjectAccessRequest",
    summary="The reviewer's decision: release or withhold",
    response_model=SubjectAccessRequestRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A request already decided is 409 (`subject-access-request-decided`)."
    ),
)
def decide_subject_access_request(
    request_id: uuid.UUID,
    body: ReviewDecisionCreate,
    session: SessionDep,
    principal: SubjectAccessHandler,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Someone other than the person who
    assembled the package decides (403 `subject-access-review-by-another-person`).
    `release` needs a decision on every item in `decisions_required` (`disclose` or
    `withhold`; 422 naming those missing), may withhold any other item, never discloses
    police intelligence (422), and needs the requester's identity verified (409).
    `withhold` keeps everything back, with the exemption in `reasons`. Needs `If-Match`
    with the ETag of the request or package read (a package assembled again since makes
    it stale: 412). 409 before a package is assembled or once decided. Audited."""
    return _request_response(service.decide(session, principal, request_id, body, if_match))


@router.get(
    "/{request_id}/release.html",
    operation_id="getSubjectAccessRelease",
    summary="The document released to the requester",
    response_class=HTMLResponse,
    responses={
        **_html_responses("What the reviewer allowed, as HTML for the requester"),
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def get_subject_access_release(
    request_id: uuid.UUID, http_request: Request, session: SessionDep, principal: SubjectAccessHandler
) -> HTMLResponse:
    """For the information governance team (the role `auditor` at an agency the partnership
    agreement grants `audits`; 403 for anyone else). Only after a `release` decision
    (409 before, and for a withheld request): the items the reviewer allowed, with their
    redactions, and nothing of the reviewer's notes or flags; items withheld are left
    out without a trace. Each read is audited."""
    request, items = service.release(session, principal, request_id)
    released_on = (request.decided_at or request.opened_at).date()
    return _html(release_document(_header(http_request, request), items, released_on=released_on))
