"""HTTP handlers for meeting figures: counts only, in reporting periods, under the one
disclosure scheme for callers without exact figures."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from meetings_api.stats import service
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

router = APIRouter(prefix="/api/v1/meetings/stats", tags=["statistics"])


@router.get(
    "/actions",
    operation_id="getActionFigures",
    summary="Meeting actions done by their due date, per agency",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def actions(request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow) -> Response:
    """Actions falling due in the window, by owning agency (every agency of the partnership
    agreement listed, a family such as `school-*` as one row, `other` for the rest) and
    outcome as at `period.as_of` (done on time, done late, overdue, not yet due, cancelled;
    every outcome listed). The window is a reporting period (`period=2025-26`,
    `2025-26-Q1`, `2025-11`...; the current financial year by default) or `from`/`to`.
    Without exact-figure rights, windows are whole months and a period still open is
    counted to the start of the current month, so the figures change once a month;
    counts from 1 to 5 are `c`, further cells are hidden where a `c` could be worked out,
    and every count shown is perturbed by at most 2 by the cell key method. Cacheable:
    send `If-None-Match` with the `ETag`."""
    agreement = request.app.state.agreement
    table = figure_table(
        service.actions_by_agency_and_outcome(session, agreement, window),
        ["owner_agency", "outcome"],
        exact=exact_for(principal),
        threshold=threshold_of(request),
        rows=service.agency_rows(agreement),
        columns=service.OUTCOMES,
        window=window,
        note="Actions due in the period, agreed before period.as_of, by their outcome then.",
    )
    return cacheable(request, table)
