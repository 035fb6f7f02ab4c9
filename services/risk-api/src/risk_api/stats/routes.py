"""HTTP handlers for risk figures (counts only, small numbers suppressed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import String, case, cast, func, literal, select

from risk_api.assessments.models import ChildRisk
from safeguarding_kit.db import SessionDep
from safeguarding_kit.figures import (
    NOT_MODIFIED,
    FigureTable,
    From,
    To,
    cacheable,
    checked_range,
    figure_table,
    threshold_of,
)
from safeguarding_kit.partnership.policy import FigureReader, Permission, allows
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/stats", tags=["statistics"])


@router.get(
    "/levels",
    operation_id="getRiskLevelFigures",
    summary="Children by current risk level",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def levels(request: Request, session: SessionDep, principal: FigureReader) -> Response:
    """How many children are at each level now. Counts from 1 to 5 are suppressed for
    everyone but analysts."""
    checked_range(principal, None, None)
    rows = session.execute(
        select(cast(ChildRisk.current_level, String), func.count())
        .where(ChildRisk.current_level.is_not(None))
        .group_by(ChildRisk.current_level)
    ).all()
    table = figure_table(
        [(str(level), "all", int(n)) for level, n in rows],
        ["current_level"],
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)


@router.get(
    "/movements",
    operation_id="getRiskMovementFigures",
    summary="Movements between levels in a period",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def movements(
    request: Request, session: SessionDep, principal: FigureReader, start: From = None, end: To = None
) -> Response:
    """Children whose level changed in [from, to), by previous and current level
    ("none" for a first assessment)."""
    since, until = checked_range(principal, start, end)
    previous = func.coalesce(cast(ChildRisk.previous_level, String), literal("none"))
    rows = session.execute(
        select(previous, cast(ChildRisk.current_level, String), func.count())
        .where(ChildRisk.level_changed_at >= since, ChildRisk.level_changed_at < until)
        .group_by(previous, ChildRisk.current_level)
    ).all()
    table = figure_table(
        [(str(p), str(c), int(n)) for p, c, n in rows],
        ["previous_level", "current_level"],
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)


@router.get(
    "/assessments-per-child",
    operation_id="getAssessmentsPerChildFigures",
    summary="How many times children have been assessed",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def assessments_per_child(request: Request, session: SessionDep, principal: FigureReader) -> Response:
    """Children by number of assessments: 1, 2, 3, 4 or more (risk reducing over repeated
    assessments is what the partnership looks for)."""
    checked_range(principal, None, None)
    bucket = case(
        (ChildRisk.assessments_count >= 4, literal("4+")), else_=cast(ChildRisk.assessments_count, String)
    )
    rows = session.execute(
        select(bucket, func.count()).where(ChildRisk.assessments_count > 0).group_by(bucket)
    ).all()
    table = figure_table(
        [(str(b), "all", int(n)) for b, n in rows],
        ["assessments"],
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)
