"""HTTP handlers for impact analysis: what a risk model version would change, as counts
for analysts and as a list of children for the hub's case workers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from risk_api.deps import ImpactAnalyst, MovingChildrenReader
from risk_api.impact import service
from risk_api.impact.schemas import ChildMovingLevel, ImpactRead
from risk_api.vocabularies import RiskLevel
from safeguarding_kit.db import SessionDep
from safeguarding_kit.figures import threshold_of
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, allows
from safeguarding_kit.problems import problem_responses

# Under the model they analyse, where integrators have always found them.
router = APIRouter(prefix="/api/v1/risk/models", tags=["risk-models"])


@router.get(
    "/{model_id}/impact",
    operation_id="getRiskModelImpact",
    summary="How many children this version would move between levels",
    response_model=ImpactRead,
    responses=problem_responses(401, 403, 404, 422),
)
def model_impact(
    model_id: uuid.UUID, request: Request, session: SessionDep, principal: ImpactAnalyst
) -> ImpactRead:
    """Re-scores every child's current assessment under this version (a draft too) and
    counts the children per movement between levels. Nothing changes; no child is
    named (case workers list them with `listChildrenMovingLevel`). Counts are exact only
    for analysts of an agency granted `exact_figures`; for everyone else counts from 1
    to the threshold are `c`, as in the risk statistics. Audited."""
    return service.impact_of(
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
    principal: MovingChildrenReader,
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
    items, next_cursor = service.children_moving(
        session, principal, model_id, from_level=from_level, to_level=to_level, limit=limit, cursor=cursor
    )
    return Page[ChildMovingLevel](items=items, next_cursor=next_cursor)
