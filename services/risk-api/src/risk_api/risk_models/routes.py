"""HTTP handlers for risk models and their publication (impact analysis:
:mod:`risk_api.impact.routes`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from risk_api.deps import PublicationRequestReader, RiskModelGovernor, RiskModelReader
from risk_api.publication import service as publication_service
from risk_api.publication.schemas import PublicationRequestRead
from risk_api.risk_models import service
from risk_api.risk_models.models import RiskModel
from risk_api.risk_models.schemas import RiskModelCreate, RiskModelRead
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.figures import threshold_of
from safeguarding_kit.idempotency import (
    GUARDED_BY_IF_MATCH,
    IdempotentCreate,
    naturally_idempotent,
)
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, allows
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/models", tags=["risk-models"])


def _model_response(model: RiskModel, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        RiskModelRead.model_validate(model),
        model.row_version,
        status_code,
        headers={"Location": f"/api/v1/risk/models/{model.id}"},
    )


@router.get(
    "",
    operation_id="listRiskModels",
    summary="List risk model versions",
    response_model=Page[RiskModelRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_risk_models(
    session: SessionDep, principal: RiskModelReader, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[RiskModelRead]:
    """Every version of every risk model, newest first, with its indicators."""
    rows, next_cursor = service.list_models(session, limit=limit, cursor=cursor)
    return Page[RiskModelRead](items=[RiskModelRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "",
    operation_id="createRiskModel",
    summary="Create a draft risk model version",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 422),
)
def create_risk_model(
    body: RiskModelCreate, session: SessionDep, principal: RiskModelGovernor, once: IdempotentCreate
) -> JSONResponse:
    """A draft numbered after the newest version of the same name. Publishing it takes
    two governing admins: see `requestRiskModelApproval` and `approveRiskModel`."""
    return once.answer(
        session,
        principal,
        body,
        lambda: _model_response(service.create_draft(session, principal, body), 201),
    )


@router.get(
    "/{model_id}",
    operation_id="getRiskModel",
    summary="Read a risk model version",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_risk_model(
    model_id: uuid.UUID, session: SessionDep, principal: RiskModelReader
) -> VersionedJSONResponse:
    """The version with its thresholds and indicators, and its `ETag`."""
    return _model_response(service.get_model(session, model_id))


@router.put(
    "/{model_id}",
    operation_id="replaceDraftRiskModel",
    summary="Replace a draft's content",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        "It replaces the whole draft, and needs `If-Match` (428 without it): a repeat carries "
        "the ETag the first request made stale and is refused with 412."
    ),
)
def replace_draft(
    model_id: uuid.UUID,
    body: RiskModelCreate,
    session: SessionDep,
    principal: RiskModelGovernor,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Drafts only: a published version never changes (409). Needs `If-Match`. A pending
    publication request lapses: ask again for the changed draft."""
    return _model_response(service.replace_draft(session, principal, model_id, body, if_match))


def _request_response(
    request: Request, principal: Principal, model: RiskModel, status_code: int
) -> VersionedJSONResponse:
    body = publication_service.publication_request_read(
        model, exact=allows(principal, Permission.read_exact_figures), threshold=threshold_of(request)
    )
    return json_with_etag(
        body,
        model.row_version,
        status_code,
        headers={"Location": f"/api/v1/risk/models/{model.id}/approval-request"},
    )


@router.post(
    "/{model_id}/approval-request",
    operation_id="requestRiskModelApproval",
    summary="Ask a second admin to approve publishing a draft",
    status_code=status.HTTP_201_CREATED,
    response_model=PublicationRequestRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def request_approval(
    model_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: RiskModelGovernor,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Records who asks and what publishing the draft (at the version `If-Match` names)
    would change: the published version's hard triggers it removes, and how many
    children would move between levels (from impact analysis, counts only). A
    *different* governing admin then approves (`approveRiskModel`); changing the draft
    afterwards needs a new request. Replaces an earlier request; audited. The answer's
    `ETag` is the model's, for the approval's `If-Match`."""
    model = publication_service.request_publication(session, principal, model_id, if_match)
    return _request_response(request, principal, model, 201)


@router.get(
    "/{model_id}/approval-request",
    operation_id="getRiskModelApprovalRequest",
    summary="Read a draft's request for publication",
    response_model=PublicationRequestRead,
    responses=problem_responses(401, 403, 404),
)
def get_approval_request(
    model_id: uuid.UUID, request: Request, session: SessionDep, principal: PublicationRequestReader
) -> VersionedJSONResponse:
    """Who asked, when, and what publishing would change, as computed when they asked:
    what the approver weighs. Counts are exact only for analysts of an agency granted
    `exact_figures`. 404 when no request waits for approval."""
    return _request_response(request, principal, publication_service.pending_request(session, model_id), 200)


@router.post(
    "/{model_id}/approval",
    operation_id="approveRiskModel",
    summary="Approve a requested publication, which publishes the draft",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " Once published, a repeat is 409: nobody has asked for approval."
    ),
)
def approve(
    model_id: uuid.UUID, session: SessionDep, principal: RiskModelGovernor, if_match: IfMatchHeader
) -> VersionedJSONResponse:
    """Publishes the draft: from now on new assessments use it and it never changes.
    Only a governing admin other than the one who asked may approve (403 for the
    requester); 409 when nobody asked, or another version was published since the
    request. Send the `ETag` of the approval request (or the model) as `If-Match`: a
    draft changed since is 412. Audited."""
    return _model_response(publication_service.approve_publication(session, principal, model_id, if_match))


@router.post(
    "/{model_id}/new-version",
    operation_id="startRiskModelVersion",
    summary="Start a new draft version from this one",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404),
)
def new_version(
    model_id: uuid.UUID, session: SessionDep, principal: RiskModelGovernor, once: IdempotentCreate
) -> JSONResponse:
    """A draft copy, numbered next, to reweight and check with the impact analysis."""
    return once.answer(
        session,
        principal,
        None,
        lambda: _model_response(service.new_version(session, principal, model_id), 201),
    )
