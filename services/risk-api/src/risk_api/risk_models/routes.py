"""HTTP handlers for risk models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from risk_api.risk_models import service
from risk_api.risk_models.schemas import RiskModelCreate, RiskModelRead
from safeguarding_kit.auth.dependencies import require_roles
from safeguarding_kit.auth.principal import Principal, Role
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/models", tags=["risk-models"])

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.practitioner, Role.risk_assessor, Role.manager, Role.admin, Role.analyst)),
]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]


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
    """Every version of every risk model, newest first."""
    rows, next_cursor = service.list_models(session, limit=limit, cursor=cursor)
    return Page[RiskModelRead](items=[RiskModelRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "",
    operation_id="createRiskModel",
    summary="Start a new draft risk model version",
    status_code=status.HTTP_201_CREATED,
    response_model=RiskModelRead,
    responses=problem_responses(401, 403, 422),
)
def create_risk_model(body: RiskModelCreate, session: SessionDep, principal: Admin) -> RiskModelRead:
    """A draft version numbered after the newest version of the same name (admins only)."""
    return RiskModelRead.model_validate(service.create_draft_model(session, principal, body))
