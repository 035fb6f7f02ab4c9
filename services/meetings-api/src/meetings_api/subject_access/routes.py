"""HTTP handler of the subject access extract of what the meetings held about a child."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from meetings_api.deps import SubjectAccessHandler
from meetings_api.subject_access import service
from meetings_api.subject_access.schemas import MeetingsSubjectAccessExtract
from safeguarding_kit.db import SessionDep
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/meetings", tags=["subject-access"])


@router.get(
    "/children/{child_id}/subject-access-extract",
    operation_id="getChildMeetingsSubjectAccessExtract",
    summary="Everything the meetings held about a child, for their subject access request",
    response_model=MeetingsSubjectAccessExtract,
    responses=problem_responses(401, 403, 422),
)
def child_meetings_subject_access_extract(
    child_id: uuid.UUID, session: SessionDep, principal: SubjectAccessHandler
) -> MeetingsSubjectAccessExtract:
    """For the information governance team handling a subject access request (the role
    `auditor` at an agency granted `audits`); the referral service calls it, with that
    person's token, when it assembles the child's package (`assembleSubjectAccessPackage`).
    Every agenda item that discussed the child (by meeting, oldest first) with its minutes
    and decisions, the actions about the child, and who read or changed those records by
    agency and role. Other children never appear: their ids are removed from each item
    and from its text, and the reasons that concern them are left out; who recorded a
    decision or owns an action is not given (an owning agency is). A child never
    discussed has an empty extract, not a 404. Every call is audited as a read of the
    child's meeting records."""
    return service.subject_access_extract(session, principal, child_id)
