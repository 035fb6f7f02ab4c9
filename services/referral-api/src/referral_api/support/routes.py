"""HTTP handlers for a child's support."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from referral_api.deps import SupportArranger, SupportWorker
from referral_api.support import service
from referral_api.support.models import Support, SupportKind
from referral_api.support.rules import SupportStatus
from referral_api.support.schemas import (
    ContactCreate,
    ContactRead,
    SupportEnd,
    SupportOffer,
    SupportRead,
    SupportStart,
)
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.created import CreatedJSONResponse
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["support"])

WHO_RECORDS = (
    "Case workers (`practitioner`, `manager`) of the agency providing the support, or of the hub's "
    "own teams (an agency granted `all_cases`); others who may see the child get 403, those who may "
    "not see it 404."
)


def _location(support_id: uuid.UUID) -> str:
    return f"/api/v1/support/{support_id}"


def _response(support: Support, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        service.to_read(support),
        support.row_version,
        status_code,
        headers={"Location": _location(support.id)},
    )


@router.post(
    "/children/{child_id}/support",
    operation_id="offerSupport",
    summary="Offer a child support from a service or agency of the partnership",
    status_code=status.HTTP_201_CREATED,
    response_model=SupportRead,
    responses=problem_responses(401, 403, 404, 422),
)
def offer_support(
    child_id: uuid.UUID,
    body: SupportOffer,
    request: Request,
    session: SessionDep,
    principal: SupportArranger,
    outbox: OutboxDep,
    once: IdempotentCreate,
) -> JSONResponse:
    """The hub's case workers (`practitioner` or `manager` at an agency granted `all_cases`)
    offer or request support for a child, from a service of the partnership agreement
    (`GET /api/v1/partnership`, `services`: e.g. `post-abuse-support`, provided by
    `safe-space-sheffield`) or directly from an agency of it. The providing agency is linked to
    the child: its case workers may then read the child's record and risk, record the
    support's start, contacts and end, and their webhooks hear of the child's events. The
    waiting time counts from `requested_at` (now if left out). The child's id comes from the
    child's record or a referral. Unknown service or agency is 422 naming the field. Audited;
    announced as `support.offered`."""

    def create() -> VersionedJSONResponse:
        support = service.offer_support(
            session, principal, child_id, body, outbox, agreement=request.app.state.agreement
        )
        return _response(support, 201)

    return once.answer(session, principal, body, create)


@router.get(
    "/children/{child_id}/support",
    operation_id="listChildSupport",
    summary="A child's support",
    response_model=Page[SupportRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_child_support(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWorker,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[SupportRead]:
    """Every support offered to the child, newest first, for case workers who may see the
    child (the hub's own teams, agencies linked to the child, including those providing its
    support, and break-glass grants); 404 for anyone else. Each listed support is an audited
    read."""
    rows, next_cursor = service.list_child_support(session, principal, child_id, limit=limit, cursor=cursor)
    return Page[SupportRead](items=[service.to_read(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/support",
    operation_id="listSupport",
    summary="Support your agency provides",
    response_model=Page[SupportRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_support(
    session: SessionDep,
    principal: CaseWorker,
    support_status: Annotated[
        SupportStatus | None,
        Query(alias="status", description="offered (waiting to start), active or ended."),
    ] = None,
    kind: Annotated[SupportKind | None, Query(description="Only support of this kind.")] = None,
    service_slug: Annotated[
        str | None, Query(alias="service", max_length=63, description="Only this service of the agreement.")
    ] = None,
    provider_agency: Annotated[
        str | None, Query(max_length=63, description="Only support this agency provides.")
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[SupportRead]:
    """The supports your agency provides, newest first: a provider's caseload, with the
    children waiting to start (`status=offered`). The hub's own teams (`all_cases`) see every
    provider's. Each listed support is an audited read."""
    filters = service.SupportFilters(
        status=support_status, kind=kind, service=service_slug, provider_agency=provider_agency
    )
    rows, next_cursor = service.list_provided_support(session, principal, filters, limit=limit, cursor=cursor)
    return Page[SupportRead](items=[service.to_read(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/support/{support_id}",
    operation_id="getSupport",
    summary="Read a support",
    response_model=SupportRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_support(support_id: uuid.UUID, session: SessionDep, principal: CaseWorker) -> VersionedJSONResponse:
    """With its `ETag` (send it in `If-Match` to record the start or the end); 404 if it does
    not exist or you may not see the child. Audited."""
    return _response(service.read_support(session, principal, support_id))


@router.post(
    "/support/{support_id}/start",
    operation_id="recordSupportStart",
    summary="Record that a support started",
    response_model=SupportRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A support already started is 409 (`support-step-not-possible`)."
    ),
    description="The first session with the child: the waiting time ends here, and the child's risk "
    "level at the start is taken from the latest assessment the risk service announced at or before "
    "`started_at`. Needs `If-Match`. " + WHO_RECORDS + " Audited; announced as `support.started`.",
)
def record_support_start(
    support_id: uuid.UUID,
    body: SupportStart,
    session: SessionDep,
    principal: SupportWorker,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    return _response(service.start_support(session, principal, support_id, body, if_match, outbox))


@router.post(
    "/support/{support_id}/end",
    operation_id="recordSupportEnd",
    summary="Record that a support ended, and why",
    response_model=SupportRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A support already ended is 409 (`support-step-not-possible`)."
    ),
    description="The end and why; an offer can end before it starts (`child_declined`, `moved_away`"
    "...). The child's risk level at the end is taken as at the start. Needs `If-Match`. "
    + WHO_RECORDS
    + " Audited; announced as `support.ended`.",
)
def record_support_end(
    support_id: uuid.UUID,
    body: SupportEnd,
    session: SessionDep,
    principal: SupportWorker,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    return _response(service.end_support(session, principal, support_id, body, if_match, outbox))


@router.post(
    "/support/{support_id}/contacts",
    operation_id="recordSupportContact",
    summary="Record a contact with the child",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    description="A session or attempted session with the child under a support that has started: the "
    "day, the kind of place (school, community venue, home, a placement out of area, a secure unit, "
    "online, other; never an address, and no field for one) and how the child engaged. Dated between "
    "the support's start and its end (or today); 409 before the support started. "
    + WHO_RECORDS
    + " Audited.",
)
def record_support_contact(
    support_id: uuid.UUID,
    body: ContactCreate,
    session: SessionDep,
    principal: SupportWorker,
    once: IdempotentCreate,
) -> JSONResponse:
    def create() -> CreatedJSONResponse:
        contact = service.record_contact(session, principal, support_id, body)
        return CreatedJSONResponse(
            service.contact_to_read(contact).model_dump(mode="json"),
            location=f"{_location(support_id)}/contacts/{contact.id}",
        )

    return once.answer(session, principal, body, create)


@router.get(
    "/support/{support_id}/contacts",
    operation_id="listSupportContacts",
    summary="A support's contacts with the child",
    response_model=Page[ContactRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_support_contacts(
    support_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWorker,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ContactRead]:
    """In the order they were recorded, for case workers who may see the child; each listed
    contact is an audited read."""
    rows, next_cursor = service.list_contacts(session, principal, support_id, limit=limit, cursor=cursor)
    return Page[ContactRead](items=[service.contact_to_read(c) for c in rows], next_cursor=next_cursor)


@router.get(
    "/support/{support_id}/contacts/{contact_id}",
    operation_id="getSupportContact",
    summary="Read one contact of a support",
    response_model=ContactRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_support_contact(
    support_id: uuid.UUID, contact_id: uuid.UUID, session: SessionDep, principal: CaseWorker
) -> ContactRead:
    """For case workers who may see the child; audited."""
    return service.contact_to_read(service.read_contact(session, principal, support_id, contact_id))
