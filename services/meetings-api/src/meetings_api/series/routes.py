"""HTTP handlers for meeting series."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from meetings_api.series import service
from meetings_api.series.schemas import SeriesCreate, SeriesRead
from safeguarding_kit.auth.dependencies import require_roles
from safeguarding_kit.auth.principal import Principal, Role
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings/series", tags=["meeting-series"])

Reader = Annotated[
    Principal,
    Depends(require_roles(Role.practitioner, Role.meeting_coordinator, Role.manager, Role.risk_assessor)),
]
Coordinator = Annotated[Principal, Depends(require_roles(Role.meeting_coordinator))]


@router.get(
    "",
    operation_id="listMeetingSeries",
    summary="List meeting series",
    response_model=Page[SeriesRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_meeting_series(
    session: SessionDep, principal: Reader, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[SeriesRead]:
    """Every meeting series, newest first. Series carry no child's data."""
    rows, next_cursor = service.list_series(session, limit=limit, cursor=cursor)
    return Page[SeriesRead](items=[SeriesRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "",
    operation_id="createMeetingSeries",
    summary="Create a meeting series",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesRead,
    responses=problem_responses(401, 403, 422),
)
def create_meeting_series(body: SeriesCreate, session: SessionDep, principal: Coordinator) -> SeriesRead:
    """A recurring MACE, CETG, missing or mapping meeting (meeting coordinators only)."""
    return SeriesRead.model_validate(service.create_series(session, principal, body))
