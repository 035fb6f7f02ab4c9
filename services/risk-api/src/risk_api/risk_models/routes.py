"""HTTP handlers for risk models."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse

from risk_api.impact import service as impact_service
from risk_api.impact.schemas import ImpactRead
from risk_api.risk_models import service
from risk_api.risk_models.models import RiskModel
from risk_api.risk_models.schemas import RiskModelCreate, RiskModelRead
from safeguarding_kit.auth.dependencies import require_roles
from safeguarding_kit.auth.principal import Principal, Role
from safeguarding_kit.concurrency import IfMatchHeader, etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/models", tags=["risk-models"])

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.practitioner, Role.risk_assessor, Role.manager, Role.admin, Role.analyst)),
]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
ImpactReader = Annotated[Principal, Depends(require_roles(Role.admin, Role.manager, Role.analyst))]


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
    """A draft numbered after the newest version of the same name (admins only)."""
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
    """Drafts only: a published version never changes (409). Needs `If-Match`."""
    return _model_response(service.replace_draft(session, model_id, body, if_match))


@router.post(
    "/{model_id}/publish",
    operation_id="publishRiskModel",
    summary="Publish a draft",
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
def publish_risk_model(
    model_id: uuid.UUID, session: SessionDep, principal: Admin, if_match: IfMatchHeader = None
) -> JSONResponse:
    """From now on this version is used for new assessments and never changes."""
    return _model_response(service.publish(session, principal, model_id, if_match))


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
    summary="What adopting this version would change",
    response_model=ImpactRead,
    responses=problem_responses(401, 403, 404, 422),
)
def model_impact(
    model_id: uuid.UUID,
    session: SessionDep,
    principal: ImpactReader,
    changes_limit: Annotated[
        int, Query(ge=0, le=1000, description="How many changed children to list.")
    ] = 100,
) -> ImpactRead:
    """Re-scores every child's current assessment under this version (a draft too) and
    reports the movements between levels and the children who would change. Nothing
    changes. Children appear by their opaque id only."""
    return impact_service.impact_of(session, model_id, changes_limit=changes_limit)
