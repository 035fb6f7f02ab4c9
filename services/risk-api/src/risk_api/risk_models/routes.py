"""HTTP handlers for risk models."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse

from risk_api.impact import service as impact_service
from risk_api.impact.schemas import ChildMovingLevel, ImpactRead
from risk_api.publication import service as publication_service
from risk_api.publication.schemas import PublicationRequestRead
from risk_api.risk_models import service
from risk_api.risk_models.models import RiskModel
from risk_api.risk_models.schemas import RiskModelCreate, RiskModelRead
from risk_api.vocabularies import RiskLevel
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import IfMatchHeader, etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.figures import threshold_of
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, allows, requires
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/models", tags=["risk-models"])

Reader = Annotated[
    Principal,
    Depends(requires(Permission.read_risk_models)),
]
Admin = Annotated[Principal, Depends(requires(Permission.govern_risk_models))]
ImpactReader = Annotated[Principal, Depends(requires(Permission.run_impact_analysis))]
RequestReader = Annotated[
    Principal, Depends(requires(Permission.govern_risk_models, Permission.run_impact_analysis))
]
CaseWorker = Annotated[Principal, Depends(requires(Permission.list_children_moving_level))]


def _model_response(model: RiskModel, status_code: int = 200) -> JSONResponse:
    body = RiskModelRead.model_validate(model)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status_code,
        headers={"ETag": etag(model.row_version), "Location": f"/api/v1/risk/models/{model.id}"},
    )


@router.get(
    "",
    operation_id="listRiskModels",
    summary="List risk model versions",
    response_model=Page[RiskModelRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_risk_models(
    session: SessionDep, principal: Reader, limit: LimitParam = 25, cursor: CursorParam = None
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
def create_risk_model(body: RiskModelCreate, session: SessionDep, principal: Admin) -> JSONResponse:
    """A draft numbered after the newest version of the same name. Publishing it takes
    two governing admins: see `requestRiskModelApproval` and `approveRiskModel`."""
    return _model_response(service.create_draft(session, principal, body), 201)


@router.get(
    "/{model_id}",
    operation_id="getRiskModel",
    summary="Read a risk model version",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_risk_model(model_id: uuid.UUID, session: SessionDep, principal: Reader) -> JSONResponse:
    """The version with its thresholds and indicators, and its `ETag`."""
    return _model_response(service.get_model(session, model_id))


@router.put(
    "/{model_id}",
    operation_id="replaceDraftRiskModel",
    summary="Replace a draft's content",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def replace_draft(
    model_id: uuid.UUID,
    body: RiskModelCreate,
    session: SessionDep,
    principal: Admin,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    """Drafts only: a published version never changes (409). Needs `If-Match`. A pending
    publication request lapses: ask again for the changed draft."""
    return _model_response(service.replace_draft(session, principal, model_id, body, if_match))


def _request_response(
    request: Request, principal: Principal, model: RiskModel, status_code: int
) -> JSONResponse:
    body = publication_service.publication_request_read(
        model, exact=allows(principal, Permission.read_exact_figures), threshold=threshold_of(request)
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status_code,
        headers={
            "ETag": etag(model.row_version),
            "Location": f"/api/v1/risk/models/{model.id}/approval-request",
        },
    )


@router.post(
    "/{model_id}/approval-request",
    operation_id="requestRiskModelApproval",
    summary="Ask a second admin to approve publishing a draft",
    status_code=status.HTTP_201_CREATED,
    response_model=PublicationRequestRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
def request_approval(
    model_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Admin,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
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
    model_id: uuid.UUID, request: Request, session: SessionDep, principal: RequestReader
) -> JSONResponse:
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
)
def approve(
    model_id: uuid.UUID, session: SessionDep, principal: Admin, if_match: IfMatchHeader = None
) -> JSONResponse:
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
def new_version(model_id: uuid.UUID, session: SessionDep, principal: Admin) -> JSONResponse:
    """A draft copy, numbered next, to reweight and check with the impact analysis."""
    return _model_response(service.new_version(session, principal, model_id), 201)


@router.get(
    "/{model_id}/impact",
    operation_id="getRiskModelImpact",
    summary="How many children this version would move between levels",
    response_model=ImpactRead,
    responses=problem_responses(401, 403, 404, 422),
)
def model_impact(
    model_id: uuid.UUID, request: Request, session: SessionDep, principal: ImpactReader
) -> ImpactRead:
    """Re-scores every child's current assessment under this version (a draft too) and
    counts the children per movement between levels. Nothing changes; no child is
    named (case workers list them with `listChildrenMovingLevel`). Counts are exact only
    for analysts of an agency granted `exact_figures`; for everyone else counts from 1
    to the threshold are `c`, as in the risk statistics. Audited."""
    return impact_service.impact_of(
        session,
        principal,
        model_id,
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )


@router.get(
    "/{model_id}/children-moving",
    operation_id="listChildrenMovingLevel",
    summary="List the children this version would move between levels",
    response_model=Page[ChildMovingLevel],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def children_moving(
    model_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWorker,
    from_level: Annotated[RiskLevel | None, Query(description="Only children at this level now.")] = None,
    to_level: Annotated[
        RiskLevel | None, Query(description="Only children this version would put at this level.")
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ChildMovingLevel]:
    """The children whose level would change under this version (a draft too), by
    opaque id, ordered by id: for the hub's case workers to check before a model is
    approved. Each child listed is audited as a read of that child's risk."""
    items, next_cursor = impact_service.children_moving(
        session, principal, model_id, from_level=from_level, to_level=to_level, limit=limit, cursor=cursor
    )
    return Page[ChildMovingLevel](items=items, next_cursor=next_cursor)
