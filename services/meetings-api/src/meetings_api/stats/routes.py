"""HTTP handlers for meeting figures (counts only, small numbers suppressed)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response
from sqlalchemy import and_, case, func, literal, select

from meetings_api.actions.models import Action, ActionStatus
from safeguarding_kit.db import SessionDep, utc_now
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

router = APIRouter(prefix="/api/v1/meetings/stats", tags=["statistics"])


def action_outcome(today: date) -> object:
    """done_on_time, done_late, overdue, not_yet_due or cancelled, as SQL."""
    return case(
        (Action.status == ActionStatus.cancelled, literal("cancelled")),
        (
            and_(Action.status == ActionStatus.done, func.date(Action.completed_at) <= Action.due_date),
            literal("done_on_time"),
        ),
        (Action.status == ActionStatus.done, literal("done_late")),
        (Action.due_date < today, literal("overdue")),
        else_=literal("not_yet_due"),
    )


@router.get(
    "/actions",
    operation_id="getActionFigures",
    summary="Meeting actions done by their due date, per agency",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def actions(
    request: Request, session: SessionDep, principal: FigureReader, start: From = None, end: To = None
) -> Response:
    """Actions falling due in [from, to) by owning agency and outcome (done on time,
    done late, overdue, not yet due, cancelled). Counts from 1 to 5 are suppressed for
    everyone but analysts."""
    since, until = checked_range(principal, start, end)
    outcome = action_outcome(utc_now().date())
    rows = session.execute(
        select(Action.owner_agency, outcome, func.count())  # type: ignore[call-overload]
        .where(Action.due_date >= since.date(), Action.due_date < until.date())
        .group_by(Action.owner_agency, outcome)
    ).all()
    table = figure_table(
        [(str(a), str(o), int(n)) for a, o, n in rows],
        ["owner_agency", "outcome"],
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)
