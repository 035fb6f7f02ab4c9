"""HTTP handlers for calendar feeds: create, list and revoke them with a bearer token;
read one by its address alone, as calendar apps do."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from meetings_api.calendar_feeds import service
from meetings_api.calendar_feeds.schemas import CalendarFeedCreate, CalendarFeedCreated, CalendarFeedRead
from meetings_api.deps import AllMeetingsReader, CalendarFeedManager, Settings
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.idempotency import repeat_makes_another
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings/calendar-feeds", tags=["calendar-feeds"])


@router.post(
    "",
    operation_id="createCalendarFeed",
    summary="Create a calendar feed address to subscribe to",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    responses=problem_responses(401, 403, 409, 422),
    openapi_extra=repeat_makes_another(
        "The answer's `url` holds a token shown once and never stored, so no first answer is "
        "kept to replay: a repeat makes a second feed. `listCalendarFeeds` shows yours; revoke "
        "any you did not receive."
    ),
)
def create_calendar_feed(
    body: CalendarFeedCreate, session: SessionDep, principal: AllMeetingsReader, settings: Settings
) -> JSONResponse:
    """A feed of the series you name (or of every series you may see) for a calendar app
    that cannot sign in. The answer's `url` holds the feed's secret token and is shown only
    now: only its hash is kept. The feed stops when you or your agency's admin revoke it,
    when it expires (`valid_days`), or as soon as you could no longer read meeting series
    yourself (your agency leaves the partnership agreement or loses `chairs_meetings`).
    Each read is audited under your name. At most 20 feeds per person are live at once
    (409 `too-many-calendar-feeds`)."""
    issued = service.create_feed(session, principal, body, now=utc_now())
    created = CalendarFeedCreated.model_validate(
        {
            **CalendarFeedRead.model_validate(issued.feed).model_dump(),
            "url": str(settings.public_base_url).rstrip("/") + service.feed_path(issued.token),
        }
    )
    return JSONResponse(
        created.model_dump(mode="json"),
        status_code=201,
        # The answer holds a credential: no cache may keep it.
        headers={
            "Location": f"/api/v1/meetings/calendar-feeds/{issued.feed.id}",
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "",
    operation_id="listCalendarFeeds",
    summary="List calendar feeds",
    response_model=Page[CalendarFeedRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_calendar_feeds(
    session: SessionDep, principal: CalendarFeedManager, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[CalendarFeedRead]:
    """Your own feeds, newest first, revoked ones included; an agency admin sees every
    feed of their agency. Never a feed's address: it was shown once, at creation."""
    rows, next_cursor = service.feeds_page(session, principal, limit=limit, cursor=cursor)
    return Page[CalendarFeedRead](
        items=[CalendarFeedRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.delete(
    "/{feed_id}",
    operation_id="revokeCalendarFeed",
    summary="Revoke a calendar feed",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_calendar_feed(feed_id: uuid.UUID, session: SessionDep, principal: CalendarFeedManager) -> Response:
    """The feed's address stops working at once (404 from then on). Its owner or an admin
    of its owner's agency may revoke it; for anyone else it is 404, as if it did not exist."""
    service.revoke_feed(session, principal, feed_id, now=utc_now())
    return Response(status_code=204)


@router.get(
    "/{token}.ics",
    operation_id="readCalendarFeed",
    summary="Read a calendar feed (the address a calendar app subscribes to)",
    response_class=Response,
    openapi_extra={"security": []},
    responses={
        200: {
            "content": {"text/calendar": {"example": "BEGIN:VCALENDAR\r\n...\r\nEND:VCALENDAR\r\n"}},
            "description": "RFC 5545 calendar with the VTIMEZONE of each time zone it names.",
        },
        **problem_responses(404),
    },
)
def read_calendar_feed(
    token: Annotated[str, Path(description="The feed's secret token, from `createCalendarFeed`'s `url`.")],
    session: SessionDep,
    request: Request,
) -> Response:
    """No bearer token: the address is the credential. 404 alike for an address that was
    never issued, one revoked or expired, and one whose owner may no longer see meeting
    series. The feed carries each series' title, place and times, agenda sizes and links,
    never a child's name or id."""
    body = service.read_feed(session, token, request.app.state.agreement, now=utc_now())
    return Response(
        body,
        media_type="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="meetings.ics"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
