"""HTTP handlers for meeting series, their occurrences and their calendar feed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from meetings_api.deps import AllMeetingsReader, Coordinator
from meetings_api.occurrences.schemas import OccurrenceRead
from meetings_api.occurrences.service import occurrences_page
from meetings_api.series import service
from meetings_api.series.calendar import calendar_feed
from meetings_api.series.schemas import SeriesCreate, SeriesRead
from safeguarding_kit.concurrency import VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep, UtcTimestamp, utc_now
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.periods import DayOrInstant
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings/series", tags=["meeting-series"])


@router.get(
    "",
    operation_id="listMeetingSeries",
    summary="List meeting series",
    response_model=Page[SeriesRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_meeting_series(
    session: SessionDep, principal: AllMeetingsReader, limit: LimitParam = 25, cursor: CursorParam = None
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
def create_meeting_series(
    body: SeriesCreate, session: SessionDep, principal: Coordinator, once: IdempotentCreate
) -> VersionedJSONResponse:
    """A recurring MACE, CETG, missing or mapping meeting (meeting coordinators only)."""

    def create() -> VersionedJSONResponse:
        series = service.create_series(session, principal, body)
        return json_with_etag(
            SeriesRead.model_validate(series),
            series.row_version,
            status_code=201,
            headers={"Location": f"/api/v1/meetings/series/{series.id}"},
        )

    return once.answer(session, principal, body, create)


@router.get(
    "/{series_id}",
    operation_id="getMeetingSeries",
    summary="Read a meeting series",
    response_model=SeriesRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_meeting_series(
    series_id: uuid.UUID, session: SessionDep, principal: AllMeetingsReader
) -> VersionedJSONResponse:
    """The series with its rule and its `ETag`; `continues_series_id` links a series split by a change."""
    series = service.get_series(session, series_id)
    return json_with_etag(SeriesRead.model_validate(series), series.row_version)


@router.get(
    "/{series_id}/occurrences",
    operation_id="listOccurrences",
    summary="The series' meetings in a date range",
    response_model=Page[OccurrenceRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_occurrences(
    series_id: uuid.UUID,
    session: SessionDep,
    principal: AllMeetingsReader,
    start: Annotated[DayOrInstant | None, Query(alias="from", description="Default: now.")] = None,
    end: Annotated[
        UtcTimestamp | None,
        Query(
            alias="to", description="Default: 8 weeks after from; at most 400 days, and 10 years from today."
        ),
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[OccurrenceRead]:
    """In time order (earliest first, the calendar's order), `limit` at a time; pass the
    same `from` and `to` with `cursor`. Generated from the rule on demand (each gets a
    stable id the first time it is listed); bank holidays flagged and moved or skipped as
    the series says."""
    window_start = start or utc_now()
    window_end = end or window_start + timedelta(weeks=8)  # a rule may never end: "all" is never asked for
    rows, next_cursor = occurrences_page(
        session, series_id, window_start, window_end, limit=limit, cursor=cursor
    )
    return Page[OccurrenceRead](
        items=[OccurrenceRead.model_validate(o) for o in rows], next_cursor=next_cursor
    )


@router.get(
    "/{series_id}/calendar.ics",
    operation_id="getSeriesCalendar",
    summary="The series as an iCalendar feed",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"example": "BEGIN:VCALENDAR\r\n...\r\nEND:VCALENDAR\r\n"}},
            "description": "RFC 5545 calendar",
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def series_calendar_feed(
    series_id: uuid.UUID, session: SessionDep, principal: AllMeetingsReader, request: Request
) -> Response:
    """One VEVENT with the RRULE and EXDATEs, and the VTIMEZONE of Europe/London, readable
    by Outlook and Google Calendar. No child's name or id appears: only agenda sizes and
    the link. Calendar apps cannot send a bearer token: to subscribe, create a feed
    address with `createCalendarFeed`."""
    series = service.get_series(session, series_id)
    name = f"{series.meeting_type.value}: {series.title}"
    body = calendar_feed(session, [series], name=name, now=utc_now())
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'inline; filename="{series.id}.ics"'},
    )
