"""HTTP handlers for actions: agreed against an agenda item, marked done or cancelled,
listed per meeting and, when overdue, per owning agency."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from meetings_api.actions import service
from meetings_api.actions.models import Action
from meetings_api.actions.schemas import ActionCreate, ActionRead, ActionUpdate, OverdueByAgency
from meetings_api.deps import AllMeetingsReader, Coordinator
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

# Tagged with agendas, where integrators have always found them: actions are agreed on agenda items.
router = APIRouter(prefix="/api/v1/meetings", tags=["agendas"])


def _action_body(action: Action) -> ActionRead:
    body = ActionRead.model_validate(action)
    body.overdue = service.is_overdue(action, utc_now().date())
    return body


@router.post(
    "/agenda-items/{item_id}/actions",
    operation_id="agreeAction",
    summary="Agree an action",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionRead,
    responses=problem_responses(401, 403, 404, 422),
)
def agree_action(
    item_id: uuid.UUID,
    body: ActionCreate,
    request: Request,
    session: SessionDep,
    principal: Coordinator,
    once: IdempotentCreate,
    outbox: OutboxDep,
) -> VersionedJSONResponse:
    """Owned by an agency of the partnership agreement (422 otherwise) and a person, with a
    due date; carried forward to the series' next meetings until done or cancelled."""

    def agree() -> VersionedJSONResponse:
        action = service.agree_action(session, principal, item_id, body, request.app.state.agreement, outbox)
        return json_with_etag(
            _action_body(action),
            action.row_version,
            status_code=201,
            headers={"Location": f"/api/v1/meetings/actions/{action.id}"},
        )

    return once.answer(session, principal, body, agree)


@router.patch(
    "/actions/{action_id}",
    operation_id="updateAction",
    summary="Mark an action done or cancelled",
    response_model=ActionRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_action(
    action_id: uuid.UUID,
    body: ActionUpdate,
    session: SessionDep,
    principal: Coordinator,
    if_match: IfMatchHeader,
    outbox: OutboxDep,
) -> VersionedJSONResponse:
    """Needs `If-Match`."""
    action = service.update_action(session, principal, action_id, body, if_match, outbox)
    return json_with_etag(_action_body(action), action.row_version)


@router.get(
    "/occurrences/{occurrence_id}/actions",
    operation_id="listMeetingActions",
    summary="Actions agreed at this meeting and carried forward to it",
    response_model=Page[ActionRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_meeting_actions(
    occurrence_id: uuid.UUID,
    session: SessionDep,
    principal: AllMeetingsReader,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ActionRead]:
    """Actions from this meeting, plus those still open from earlier meetings of the
    series, in the order they were agreed (oldest first, so those carried forward come
    before this meeting's own), `limit` at a time."""
    rows, next_cursor = service.actions_for_meeting(session, occurrence_id, limit=limit, cursor=cursor)
    return Page[ActionRead](items=[_action_body(a) for a in rows], next_cursor=next_cursor)


@router.get(
    "/actions/overdue",
    operation_id="listOverdueActionsByAgency",
    summary="Overdue actions, by owning agency",
    response_model=Page[OverdueByAgency],
    responses=problem_responses(401, 403, 422),
)
def overdue_actions(
    session: SessionDep,
    principal: AllMeetingsReader,
    owner_agency: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Only the actions this agency owns (its slug)."
        ),
    ] = None,
) -> Page[OverdueByAgency]:
    """Open actions past their due date, grouped by agency (agencies in name order, each
    agency's actions earliest due first), for chasing at the next meeting. One page
    holding every group (`next_cursor` is always null, and no `limit` is taken): there is
    one group per agency with an overdue action, and actions are owned by the
    partnership's agencies, a few dozen at most; ask for one agency with `owner_agency`."""
    grouped = service.overdue_by_agency(session, utc_now().date(), owner_agency)
    return Page[OverdueByAgency](
        items=[
            OverdueByAgency(
                owner_agency=agency, overdue=len(actions), actions=[_action_body(a) for a in actions]
            )
            for agency, actions in grouped.items()
        ],
        next_cursor=None,
    )
