"""HTTP handlers for agendas, minutes, decisions and actions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse

from meetings_api.actions import service as actions_service
from meetings_api.actions.models import Action, ActionStatus
from meetings_api.actions.schemas import ActionCreate, ActionRead, ActionUpdate, OverdueByAgency
from meetings_api.agendas import service
from meetings_api.agendas.models import AgendaItem
from meetings_api.agendas.schemas import (
    AgendaItemCreate,
    AgendaItemRead,
    AgendaItemUpdate,
    DecisionCreate,
    DecisionRead,
)
from meetings_api.agendas.sources import HttpCaseSources
from meetings_api.deps import Coordinator, MeetingCaller, Reader, Settings
from meetings_api.occurrences import service as occurrences_service
from safeguarding_kit.concurrency import IfMatchHeader, etag
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings", tags=["agendas"])


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").partition(" ")[2]


def case_sources(request: Request, settings: Settings) -> HttpCaseSources:
    client: httpx.Client = request.app.state.services_client
    return HttpCaseSources(
        client,
        risk_url=str(settings.risk_api_url),
        referral_url=str(settings.referral_api_url),
        bearer_token=_bearer(request),
    )


Sources = Annotated[HttpCaseSources, Depends(case_sources)]


def _item_response(item: AgendaItem, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        AgendaItemRead.model_validate(item).model_dump(mode="json"),
        status_code=status_code,
        headers={"ETag": etag(item.row_version)},
    )


def _action_body(action: Action) -> ActionRead:
    body = ActionRead.model_validate(action)
    body.overdue = action.status is ActionStatus.open and action.due_date < utc_now().date()
    return body


@router.post(
    "/occurrences/{occurrence_id}/agenda/generate",
    operation_id="generateAgenda",
    summary="Build or rebuild the agenda from risk and referral data",
    response_model=list[AgendaItemRead],
    responses=problem_responses(401, 403, 404, 409, 502, 503),
)
def generate_agenda(
    occurrence_id: uuid.UUID,
    session: SessionDep,
    principal: Coordinator,
    sources: Sources,
    settings: Settings,
) -> list[AgendaItemRead]:
    """Children whose risk became high or rose since the last meeting, reviews due,
    children not reviewed for 12 weeks, new referrals with exploitation concerns,
    repeat referrals never discussed at MACE, and children with open or overdue
    actions: one item per child with every reason. Running it again changes nothing
    it need not: hand-made items, order changes and minutes are kept. Built with your
    token, so it holds only what you may see. 503 when a service cannot be reached,
    502 when its answer is not what it documents."""
    items = service.build_agenda(
        session,
        principal,
        occurrence_id,
        sources,
        review_gap=timedelta(weeks=settings.review_gap_weeks),
        now=utc_now(),
    )
    return [AgendaItemRead.model_validate(i) for i in items]


@router.get(
    "/occurrences/{occurrence_id}/agenda",
    operation_id="getAgenda",
    summary="The meeting's agenda",
    response_model=list[AgendaItemRead],
    responses=problem_responses(401, 403, 404, 422),
)
def get_agenda(
    occurrence_id: uuid.UUID, session: SessionDep, principal: MeetingCaller
) -> list[AgendaItemRead]:
    """In order, each with its reasons and minutes. Children appear by id only; each
    child is an audited read. Read by case workers of the agencies that chair meetings
    and by case workers of an agency on the meeting's attendance list (absent included:
    it catches up from the agenda). 403 for a token without a case role; 404 for a
    case worker of an agency not invited, as for a meeting that does not exist, and the
    refusal is audited."""
    occurrences_service.readable_occurrence(session, principal, occurrence_id, "agenda")
    return [AgendaItemRead.model_validate(i) for i in service.read_agenda(session, principal, occurrence_id)]


@router.post(
    "/occurrences/{occurrence_id}/agenda/items",
    operation_id="addAgendaItem",
    summary="Add an item by hand",
    status_code=status.HTTP_201_CREATED,
    response_model=AgendaItemRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def add_agenda_item(
    occurrence_id: uuid.UUID, body: AgendaItemCreate, session: SessionDep, principal: Coordinator
) -> JSONResponse:
    """Appended at the end; rebuilding the agenda never removes it. A group of linked
    children is one item with several `child_ids`."""
    return _item_response(service.add_item(session, principal, occurrence_id, body), 201)


@router.patch(
    "/agenda-items/{item_id}",
    operation_id="updateAgendaItem",
    summary="Reorder an item or write its minutes",
    response_model=AgendaItemRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_agenda_item(
    item_id: uuid.UUID,
    body: AgendaItemUpdate,
    session: SessionDep,
    principal: Coordinator,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    """Needs `If-Match`. A new position moves the item and renumbers the rest."""
    return _item_response(service.update_item(session, principal, item_id, body, if_match))


@router.post(
    "/agenda-items/{item_id}/decisions",
    operation_id="recordDecision",
    summary="Record a decision",
    status_code=status.HTTP_201_CREATED,
    response_model=DecisionRead,
    responses=problem_responses(401, 403, 404, 422),
)
def record_decision(
    item_id: uuid.UUID, body: DecisionCreate, session: SessionDep, principal: Coordinator
) -> DecisionRead:
    """A decision taken on the item, with who recorded it and when."""
    return DecisionRead.model_validate(service.record_decision(session, principal, item_id, body))


@router.get(
    "/agenda-items/{item_id}/decisions",
    operation_id="listDecisions",
    summary="Decisions on an item",
    response_model=list[DecisionRead],
    responses=problem_responses(401, 403, 404, 422),
)
def list_decisions(item_id: uuid.UUID, session: SessionDep, principal: MeetingCaller) -> list[DecisionRead]:
    """Oldest first; each child on the item is an audited read. Read by whoever may read
    the item's meeting (as for its agenda): 403 for a token without a case role, 404 for
    a case worker of an agency not invited, the refusal audited."""
    return [DecisionRead.model_validate(d) for d in service.decisions_of(session, principal, item_id)]


@router.post(
    "/agenda-items/{item_id}/actions",
    operation_id="agreeAction",
    summary="Agree an action",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionRead,
    responses=problem_responses(401, 403, 404, 422),
)
def agree_action(
    item_id: uuid.UUID, body: ActionCreate, session: SessionDep, principal: Coordinator
) -> JSONResponse:
    """Owned by an agency (and person), with a due date; carried forward to the
    series' next meetings until done or cancelled."""
    action = actions_service.agree_action(session, principal, item_id, body)
    return JSONResponse(
        _action_body(action).model_dump(mode="json"),
        status_code=201,
        headers={"ETag": etag(action.row_version)},
    )


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
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    """Needs `If-Match`."""
    action = actions_service.update_action(session, principal, action_id, body, if_match)
    return JSONResponse(
        _action_body(action).model_dump(mode="json"), headers={"ETag": etag(action.row_version)}
    )


@router.get(
    "/occurrences/{occurrence_id}/actions",
    operation_id="listMeetingActions",
    summary="Actions agreed at this meeting and carried forward to it",
    response_model=list[ActionRead],
    responses=problem_responses(401, 403, 404, 422),
)
def list_meeting_actions(
    occurrence_id: uuid.UUID, session: SessionDep, principal: Reader
) -> list[ActionRead]:
    """Actions from this meeting, plus those still open from earlier meetings of the series."""
    return [_action_body(a) for a in actions_service.actions_for_meeting(session, occurrence_id)]


@router.get(
    "/actions/overdue",
    operation_id="listOverdueActionsByAgency",
    summary="Overdue actions, by owning agency",
    response_model=list[OverdueByAgency],
    responses=problem_responses(401, 403, 422),
)
def overdue_actions(
    session: SessionDep,
    principal: Reader,
    owner_agency: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")] = None,
) -> list[OverdueByAgency]:
    """Open actions past their due date, grouped by agency, for chasing at the next meeting."""
    grouped = actions_service.overdue_by_agency(session, utc_now().date(), owner_agency)
    return [
        OverdueByAgency(owner_agency=agency, overdue=len(actions), actions=[_action_body(a) for a in actions])
        for agency, actions in grouped.items()
    ]
