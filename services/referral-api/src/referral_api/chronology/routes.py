"""HTTP handler for a child's chronology."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from referral_api.chronology import service
from referral_api.chronology.schemas import ChronologyEntryRead
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/children", tags=["children"])


@router.get(
    "/{child_id}/chronology",
    operation_id="getChildChronology",
    summary="Read a child's chronology across the platform",
    response_model=Page[ChronologyEntryRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def get_chronology(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWorker,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ChronologyEntryRead]:
    """Everything that happened to the child on the platform, newest first by when it
    happened: referrals and their decisions, risk assessments and level changes, meetings'
    decisions and actions, missing episodes and return-home interviews, support offered,
    started and ended, and (for those who may work intelligence) disruption of the persons and
    places of concern linked to the child. Kept from the services' events, so a step reaches it
    within seconds (after an outage of a service, once that service is back). For anyone who
    may see the child; 404 otherwise. Each read is audited as a read of the child."""
    rows, next_cursor = service.read_chronology(session, principal, child_id, limit=limit, cursor=cursor)
    return Page[ChronologyEntryRead](items=[service.entry_body(e) for e in rows], next_cursor=next_cursor)
