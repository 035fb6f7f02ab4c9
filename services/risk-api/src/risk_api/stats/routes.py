"""HTTP handlers for risk figures: counts of children only, in reporting periods, under
the one disclosure scheme for callers without exact figures."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from risk_api.stats import service
from safeguarding_kit.db import SessionDep
from safeguarding_kit.figures import (
    NOT_MODIFIED,
    FigureTable,
    FigureWindow,
    cacheable,
    exact_for,
    figure_table,
    threshold_of,
)
from safeguarding_kit.partnership.policy import FigureReader
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk/stats", tags=["statistics"])

PERIODS = (
    " The window is a reporting period (`period=2025-26`, `2025-26-Q1`, `2025-11`...; the current "
    "financial year by default) or `from`/`to`. Without exact-figure rights, windows are whole months "
    "and a period still open is counted to the start of the current month (`period.as_of`), so these "
    "figures change once a month; counts from 1 to 5 are `c`, further cells are hidden where a `c` "
    "could be worked out, and every count shown is perturbed by at most 2 by the cell key method. "
    "Cacheable: send `If-None-Match` with the `ETag`."
)


@router.get(
    "/levels",
    operation_id="getRiskLevelFigures",
    summary="Children by risk level at the end of a period",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="How many children were at each level (low, medium, high; every level listed) as at "
    "the end of the window (`period.as_of`): for each child assessed before then, the level of their "
    "latest assessment before then. `exact_figures` analysts may see it as at now (the current "
    "period's end is clipped to now)." + PERIODS,
)
def levels(request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow) -> Response:
    table = figure_table(
        service.children_by_level(session, window.counted_until),
        ["current_level"],
        exact=exact_for(principal),
        threshold=threshold_of(request),
        rows=service.LEVELS,
        window=window,
        note="Children by the level of their latest assessment before period.as_of.",
    )
    return cacheable(request, table)


@router.get(
    "/movements",
    operation_id="getRiskMovementFigures",
    summary="Children's movement between levels over a period",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Children assessed in the window, by their level at its start (`previous_level`: "
    "`none` for a child first assessed in the window) and at its end (`current_level`, as at "
    "`period.as_of`); the diagonal is children reassessed at the same level. Every pair of levels is "
    "listed." + PERIODS,
)
def movements(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    table = figure_table(
        service.movements(session, window),
        ["previous_level", "current_level"],
        exact=exact_for(principal),
        threshold=threshold_of(request),
        rows=[service.NOT_ASSESSED, *service.LEVELS],
        columns=service.LEVELS,
        window=window,
        note="Children assessed in the period, by their level at its start and as at period.as_of.",
    )
    return cacheable(request, table)


@router.get(
    "/assessments-per-child",
    operation_id="getAssessmentsPerChildFigures",
    summary="How many times children were assessed in a period",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Children assessed in the window by how many times: 1, 2, 3, 4 or more (every bucket "
    "listed). Risk reducing over repeated assessments is what the partnership looks for." + PERIODS,
)
def assessments_per_child(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    table = figure_table(
        service.assessments_per_child(session, window),
        ["assessments"],
        exact=exact_for(principal),
        threshold=threshold_of(request),
        rows=service.ASSESSMENT_BUCKETS,
        window=window,
        note="Children by the number of their assessments made in the period up to period.as_of.",
    )
    return cacheable(request, table)
