"""HTTP handler of the subject access extract of a child's risk."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from risk_api.deps import SubjectAccessHandler
from risk_api.subject_access import service
from risk_api.subject_access.schemas import RiskSubjectAccessExtract
from safeguarding_kit.db import SessionDep
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk", tags=["subject-access"])


@router.get(
    "/children/{child_id}/subject-access-extract",
    operation_id="getChildRiskSubjectAccessExtract",
    summary="Everything held about a child's risk, for their subject access request",
    response_model=RiskSubjectAccessExtract,
    responses=problem_responses(401, 403, 422),
)
def child_risk_subject_access_extract(
    child_id: uuid.UUID, session: SessionDep, principal: SubjectAccessHandler
) -> RiskSubjectAccessExtract:
    """For the information governance team handling a subject access request (the role
    `auditor` at an agency granted `audits`); the referral service calls it, with that
    person's token, when it assembles the child's package (`assembleSubjectAccessPackage`).
    The child's current risk, every assessment with its answers and evidence (oldest
    first), each change of level, and who read or changed the child's risk by agency and
    role. Assessors and managers are given by agency only. A child never screened here
    has an empty extract, not a 404. Every call is audited as a read of the child's risk."""
    return service.subject_access_extract(session, principal, child_id)
