"""HTTP handlers for a single meeting: moves, cancellations, attendance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import APIRouter
from sqlalchemy.orm import Session

from meetings_api.deps import Coordinator, MeetingCaller
from meetings_api.occurrences import service
from meetings_api.occurrences.models import Attendance, Occurrence
from meetings_api.occurrences.schemas import (
    AttendanceRead,
    AttendanceUpdate,
    AttendeeIn,
    CancelCreate,
    OccurrenceRead,
    RescheduleCreate,
)
from meetings_api.series.service import get_series
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, naturally_idempotent
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings/occurrences", tags=["meetings"])


def _response(occurrence: Occurrence) -> VersionedJSONResponse:
    return json_with_etag(OccurrenceRead.model_validate(occurrence), occurrence.row_version)


@router.get(
    "/{occurrence_id}",
    operation_id="getOccurrence",
    summary="Read one meeting",
    response_model=OccurrenceRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_occurrence(
    occurrence_id: uuid.UUID, session: SessionDep, principal: MeetingCaller
) -> VersionedJSONResponse:
    """When and where, its status, and its `ETag`. Case workers of the agencies that chair
    meetings read every meeting; case workers of another agency read the meetings their
    agency is on the attendance list of (404 otherwise, the refusal audited). 403 for a
    token without a case role."""
    return _response(service.readable_occurrence(session, principal, occurrence_id))


@router.post(
    "/{occurrence_id}/reschedule",
    operation_id="rescheduleOccurrence",
    summary="Move this meeting, this and following, or all upcoming",
    response_model=OccurrenceRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def reschedule(
    occurrence_id: uuid.UUID,
    body: RescheduleCreate,
    session: SessionDep,
    principal: Coordinator,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """`this` moves one meeting; `following` continues the series from here at the new
    time (a new series, `continues_series_id` pointing back); `all` does the same from
    the first upcoming meeting, leaving held meetings as they were."""
    return _response(service.reschedule(session, occurrence_id, body, if_match))


@router.post(
    "/{occurrence_id}/cancel",
    operation_id="cancelOccurrence",
    summary="Cancel this meeting, this and following, or all upcoming",
    response_model=OccurrenceRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def cancel(
    occurrence_id: uuid.UUID,
    body: CancelCreate,
    session: SessionDep,
    principal: Coordinator,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Needs `If-Match`. Cancelling following or all ends the series' rule there."""
    return _response(service.cancel(session, occurrence_id, body, if_match))


@router.post(
    "/{occurrence_id}/held",
    operation_id="markOccurrenceHeld",
    summary="Record that the meeting took place",
    response_model=OccurrenceRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def mark_held(
    occurrence_id: uuid.UUID, session: SessionDep, principal: Coordinator, if_match: IfMatchHeader
) -> VersionedJSONResponse:
    """scheduled -> held, once the meeting's start time (Europe/London wall clock) has passed:
    before its start it is 409 `occurrence-not-started` and nothing changes. Needs `If-Match`."""
    return _response(service.mark_held(session, occurrence_id, if_match))


def _attendance(session: Session, occurrence_id: uuid.UUID, rows: Sequence[Attendance]) -> AttendanceRead:
    occurrence = service.get_occurrence(session, occurrence_id)
    quorum = get_series(session, occurrence.series_id).quorum_agency_types
    attendees = [AttendeeIn.model_validate(r, from_attributes=True) for r in rows]
    missing = service.missing_for_quorum(quorum, attendees)
    return AttendanceRead(
        occurrence_id=occurrence_id, attendees=attendees, quorate=not missing, missing_for_quorum=missing
    )


@router.put(
    "/{occurrence_id}/attendance",
    operation_id="recordAttendance",
    summary="Record who attended",
    response_model=AttendanceRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    openapi_extra=naturally_idempotent(
        "A PUT: the register sent replaces the meeting's whole register, so sending it again "
        "leaves the same register."
    ),
)
def record_attendance(
    occurrence_id: uuid.UUID, body: AttendanceUpdate, session: SessionDep, principal: Coordinator
) -> AttendanceRead:
    """Replaces the list: each professional by agency with present, apologies or absent.
    The answer says whether the meeting was quorate under the series' rule."""
    rows = service.record_attendance(session, occurrence_id, body.attendees)
    return _attendance(session, occurrence_id, rows)


@router.get(
    "/{occurrence_id}/attendance",
    operation_id="getAttendance",
    summary="Who attended, and quorum",
    response_model=AttendanceRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_attendance(occurrence_id: uuid.UUID, session: SessionDep, principal: MeetingCaller) -> AttendanceRead:
    """The attendance list and whether the quorum's agency types were present. Read by
    whoever may read the meeting: case workers of the agencies that chair meetings and of
    the agencies on the list, absent included (404 for other case workers, the refusal
    audited; 403 for a token without a case role)."""
    service.readable_occurrence(session, principal, occurrence_id, "attendance")
    return _attendance(session, occurrence_id, service.attendance_of(session, occurrence_id))
