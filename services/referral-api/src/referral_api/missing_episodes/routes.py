"""HTTP handlers for missing episodes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from referral_api.missing_episodes import service
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.missing_episodes.schemas import EpisodeCreate, EpisodeRead, FoundCreate, InterviewCreate
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import (
    GUARDED_BY_IF_MATCH,
    IdempotentCreate,
    naturally_idempotent,
)
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/missing-episodes", tags=["missing-episodes"])


def _body(episode: MissingEpisode) -> EpisodeRead:
    body = EpisodeRead.model_validate(episode)
    body.rhi_overdue = service.interview_overdue(episode, utc_now())
    return body


def _response(episode: MissingEpisode, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        _body(episode),
        episode.row_version,
        status_code,
        headers={"Location": f"/api/v1/missing-episodes/{episode.id}"},
    )


@router.post(
    "",
    operation_id="reportMissing",
    summary="Report a child missing",
    status_code=status.HTTP_201_CREATED,
    response_model=EpisodeRead,
    responses=problem_responses(401, 403, 422),
)
def report_missing(
    body: EpisodeCreate, session: SessionDep, principal: CaseWorker, outbox: OutboxDep, once: IdempotentCreate
) -> JSONResponse:
    """Opens an episode for a child you can see."""
    return once.answer(
        session,
        principal,
        body,
        lambda: _response(service.report_missing(session, principal, body, outbox), 201),
    )


@router.get(
    "",
    operation_id="listMissingEpisodes",
    summary="Missing episodes you may see",
    response_model=Page[EpisodeRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_episodes(
    session: SessionDep,
    principal: CaseWorker,
    child_id: Annotated[uuid.UUID | None, Query(description="Only those about this child.")] = None,
    open: Annotated[bool, Query(description="Only episodes not yet closed.")] = False,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[EpisodeRead]:
    """Newest first; `open=true` keeps children not yet found."""
    rows, next_cursor = service.list_episodes(
        session,
        principal,
        child_id=child_id,
        open_only=open,
        overdue_interviews_at=None,
        limit=limit,
        cursor=cursor,
    )
    return Page[EpisodeRead](items=[_body(e) for e in rows], next_cursor=next_cursor)


@router.get(
    "/overdue-interviews",
    operation_id="listOverdueReturnHomeInterviews",
    summary="Return-home interviews past their 72 hours",
    response_model=Page[EpisodeRead],
    responses=problem_responses(400, 401, 403, 422),
)
def overdue_interviews(
    session: SessionDep, principal: CaseWorker, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[EpisodeRead]:
    """Children found more than 72 hours ago whose interview is neither completed nor declined."""
    rows, next_cursor = service.list_episodes(
        session,
        principal,
        child_id=None,
        open_only=False,
        overdue_interviews_at=utc_now(),
        limit=limit,
        cursor=cursor,
    )
    return Page[EpisodeRead](items=[_body(e) for e in rows], next_cursor=next_cursor)


@router.get(
    "/{episode_id}",
    operation_id="getMissingEpisode",
    summary="Read a missing episode",
    response_model=EpisodeRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_episode(episode_id: uuid.UUID, session: SessionDep, principal: CaseWorker) -> VersionedJSONResponse:
    """With its interview clock and `ETag`."""
    return _response(service.get_episode(session, principal, episode_id))


@router.post(
    "/{episode_id}/found",
    operation_id="recordChildFound",
    summary="Record that the child was found",
    response_model=EpisodeRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def record_found(
    episode_id: uuid.UUID,
    body: FoundCreate,
    session: SessionDep,
    principal: CaseWorker,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Starts the 72-hour return-home interview clock. Needs `If-Match`."""
    return _response(service.record_found(session, principal, episode_id, body, if_match, outbox))


@router.post(
    "/{episode_id}/return-home-interview",
    operation_id="recordReturnHomeInterview",
    summary="Record the return-home interview offered, completed or declined",
    response_model=EpisodeRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def record_interview(
    episode_id: uuid.UUID,
    body: InterviewCreate,
    session: SessionDep,
    principal: CaseWorker,
    if_match: IfMatchHeader,
    outbox: OutboxDep,
) -> VersionedJSONResponse:
    """After the child is found; completed or declined closes the clock. Needs `If-Match`."""
    return _response(service.record_interview(session, principal, episode_id, body, if_match, outbox))
