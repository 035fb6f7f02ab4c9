"""HTTP handlers for agendas, minutes and decisions (actions: :mod:`meetings_api.actions.routes`)."""

from __future__ import annotations

import uuid
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse

from meetings_api.agendas import service
from meetings_api.agendas.models import AgendaItem
from meetings_api.agendas.schemas import (
    AgendaItemCreate,
    AgendaItemRead,
    AgendaItemUpdate,
    DecisionCreate,
    DecisionRead,
)
from meetings_api.agendas.upstream.paging import ServiceLists
from meetings_api.agendas.upstream.referral_client import HttpReferralClient, ReferralClient
from meetings_api.agendas.upstream.risk_client import HttpRiskClient, RiskClient
from meetings_api.deps import Coordinator, MeetingCaller, Settings
from meetings_api.occurrences import service as occurrences_service
from safeguarding_kit.auth.bearer import bearer_token
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.created import CreatedJSONResponse
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings", tags=["agendas"])


def _service_lists(request: Request, base_url: str, service: str) -> ServiceLists:
    """Another service's lists, read with the caller's own token."""
    client: httpx.Client = request.app.state.services_client
    return ServiceLists(client, base_url=base_url, service=service, bearer_token=bearer_token(request))


async def risk_client(request: Request, settings: Settings) -> RiskClient:
    """The risk service, asked with the caller's own token."""
    return HttpRiskClient(_service_lists(request, str(settings.risk_api_url), "risk service"))


async def referral_client(request: Request, settings: Settings) -> ReferralClient:
    """The referral service, asked with the caller's own token."""
    return HttpReferralClient(_service_lists(request, str(settings.referral_api_url), "referral service"))


RiskService = Annotated[RiskClient, Depends(risk_client)]
ReferralService = Annotated[ReferralClient, Depends(referral_client)]


def _item_response(item: AgendaItem, status_code: int = 200) -> VersionedJSONResponse:
    created = {"Location": f"/api/v1/meetings/agenda-items/{item.id}"} if status_code == 201 else None
    return json_with_etag(AgendaItemRead.model_validate(item), item.row_version, status_code, created)


@router.post(
    "/occurrences/{occurrence_id}/agenda/generate",
    operation_id="generateAgenda",
    summary="Build or rebuild the agenda from risk and referral data",
    response_model=Page[AgendaItemRead],
    responses=problem_responses(401, 403, 404, 409, 422, 502, 503),
    openapi_extra=naturally_idempotent(
        "Rebuilding the agenda from the same risk and referral data changes nothing: each "
        "child has one item, and hand-made items, order changes and minutes are kept."
    ),
)
def generate_agenda(
    occurrence_id: uuid.UUID,
    session: SessionDep,
    principal: Coordinator,
    risk: RiskService,
    referrals: ReferralService,
    settings: Settings,
    limit: LimitParam = 25,
) -> Page[AgendaItemRead]:
    """Children whose risk became high or rose since the last meeting, reviews due,
    children at medium or high risk not reviewed for the partnership's review gap
    (12 weeks unless configured), new referrals with exploitation concerns, repeat
    referrals or missing episodes never discussed at MACE, and children with open or
    overdue actions: one item per child with every reason. Running it again changes
    nothing it need not: hand-made items, order changes and minutes are kept. Built
    with your token, so it holds only what you may see. 503 when a service cannot be
    reached, 502 when its answer is not what it documents, and 502
    (`agenda-source-too-long`) when one of its lists is too long to read whole (over
    20,000 entries): the agenda is then not built, rather than built without some
    children. Nothing is written on any of these errors. The answer is the first page of
    the rebuilt agenda in running order, `limit` items; pass its `next_cursor` as `cursor`
    to getAgenda for the rest."""
    service.build_agenda(
        session,
        principal,
        occurrence_id,
        risk,
        referrals,
        review_gap_weeks=settings.review_gap_weeks,
        now=utc_now(),
    )
    items, next_cursor = service.agenda_page(session, occurrence_id, limit=limit, cursor=None)
    return Page[AgendaItemRead](
        items=[AgendaItemRead.model_validate(i) for i in items], next_cursor=next_cursor
    )


@router.get(
    "/occurrences/{occurrence_id}/agenda",
    operation_id="getAgenda",
    summary="The meeting's agenda",
    response_model=Page[AgendaItemRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def get_agenda(
    occurrence_id: uuid.UUID,
    session: SessionDep,
    principal: MeetingCaller,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[AgendaItemRead]:
    """In running order (by `position`), `limit` items at a time, each with its reasons
    and minutes. Children appear by id only; each child on the page is an audited read.
    Read by case workers of the agencies that chair meetings and by case workers of an
    agency on the meeting's attendance list (absent included: it catches up from the
    agenda). 403 for a token without a case role; 404 for a case worker of an agency not
    invited, as for a meeting that does not exist, and the refusal is audited."""
    occurrences_service.readable_occurrence(session, principal, occurrence_id, "agenda")
    items, next_cursor = service.read_agenda(session, principal, occurrence_id, limit=limit, cursor=cursor)
    return Page[AgendaItemRead](
        items=[AgendaItemRead.model_validate(i) for i in items], next_cursor=next_cursor
    )


@router.post(
    "/occurrences/{occurrence_id}/agenda/items",
    operation_id="addAgendaItem",
    summary="Add an item by hand",
    status_code=status.HTTP_201_CREATED,
    response_model=AgendaItemRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def add_agenda_item(
    occurrence_id: uuid.UUID,
    body: AgendaItemCreate,
    session: SessionDep,
    principal: Coordinator,
    once: IdempotentCreate,
) -> VersionedJSONResponse:
    """Appended at the end; rebuilding the agenda never removes it. A group of linked
    children is one item with several `child_ids`."""
    return once.answer(
        session,
        principal,
        body,
        lambda: _item_response(service.add_item(session, principal, occurrence_id, body), 201),
    )


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
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
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
    item_id: uuid.UUID,
    body: DecisionCreate,
    session: SessionDep,
    principal: Coordinator,
    once: IdempotentCreate,
    outbox: OutboxDep,
) -> JSONResponse:
    """A decision taken on the item, with who recorded it and when. `Location` is the item's
    list of decisions (a decision has no address of its own)."""

    def record() -> JSONResponse:
        decision = service.record_decision(session, principal, item_id, body, outbox)
        return CreatedJSONResponse(
            DecisionRead.model_validate(decision).model_dump(mode="json"),
            location=f"/api/v1/meetings/agenda-items/{item_id}/decisions",
        )

    return once.answer(session, principal, body, record)


@router.get(
    "/agenda-items/{item_id}/decisions",
    operation_id="listDecisions",
    summary="Decisions on an item",
    response_model=Page[DecisionRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_decisions(
    item_id: uuid.UUID,
    session: SessionDep,
    principal: MeetingCaller,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[DecisionRead]:
    """Oldest first, `limit` at a time; each child on the item is an audited read. Read by
    whoever may read the item's meeting (as for its agenda): 403 for a token without a
    case role, 404 for a case worker of an agency not invited, the refusal audited."""
    rows, next_cursor = service.decisions_of(session, principal, item_id, limit=limit, cursor=cursor)
    return Page[DecisionRead](items=[DecisionRead.model_validate(d) for d in rows], next_cursor=next_cursor)
