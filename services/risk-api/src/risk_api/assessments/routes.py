"""HTTP handlers for assessments and children's risk."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from risk_api.assessments import service
from risk_api.assessments.models import Assessment, ChildRisk
from risk_api.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    ChildRiskRead,
    OverrideCreate,
    ScreeningCreate,
)
from risk_api.deps import Assessor, LevelOverrider, Settings
from risk_api.settings import RiskSettings
from risk_api.vocabularies import RiskLevel, Trend
from safeguarding_kit.concurrency import (
    IfMatchHeader,
    IfMatchOnceRecorded,
    VersionedJSONResponse,
    json_with_etag,
)
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.periods import DayOrInstant
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/risk", tags=["assessments"])


def review_days(settings: RiskSettings) -> dict[RiskLevel, int]:
    return {
        RiskLevel.high: settings.review_days_high,
        RiskLevel.medium: settings.review_days_medium,
        RiskLevel.low: settings.review_days_low,
    }


def _assessment_response(assessment: Assessment, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        AssessmentRead.model_validate(assessment),
        assessment.row_version,
        status_code,
        headers={"Location": f"/api/v1/risk/assessments/{assessment.id}"},
    )


def _risk_body(risk: ChildRisk) -> ChildRiskRead:
    body = ChildRiskRead.model_validate(risk)
    body.review_overdue = service.review_overdue(risk)
    return body


@router.post(
    "/children/{child_id}/assessments",
    operation_id="assessChild",
    summary="Assess a child against a risk model",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def assess_child(
    child_id: uuid.UUID,
    body: AssessmentCreate,
    session: SessionDep,
    principal: Assessor,
    settings: Settings,
    outbox: OutboxDep,
    once: IdempotentCreate,
    if_match: IfMatchOnceRecorded = None,
) -> VersionedJSONResponse:
    """Scores the answers: the score, the computed level and each indicator's
    contribution. `child_id` is the referral service's id for the child. When the child
    already has a risk record, send its ETag (from `getChildRisk`) in `If-Match`. A retry
    with the same `Idempotency-Key` gets the first answer, whatever `If-Match` it carries."""

    def assess() -> VersionedJSONResponse:
        assessment = service.assess_child(
            session, principal, child_id, body, if_match, review_days(settings), outbox
        )
        return _assessment_response(assessment, 201)

    return once.answer(session, principal, body, assess)


@router.get(
    "/children",
    operation_id="listChildRisks",
    summary="Children's current risk, filtered",
    response_model=Page[ChildRiskRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_child_risks(
    session: SessionDep,
    principal: CaseWorker,
    level: Annotated[RiskLevel | None, Query(description="Only children at this risk level now.")] = None,
    trend: Annotated[
        Trend | None, Query(description="Only children whose risk moved this way at their last assessment.")
    ] = None,
    level_changed_since: Annotated[
        DayOrInstant | None,
        Query(description="Reached their level at or after (a date, or an ISO 8601 time with its offset)."),
    ] = None,
    review_due_before: Annotated[
        DayOrInstant | None,
        Query(description="Review due before (a date, or an ISO 8601 time with its offset)."),
    ] = None,
    assessed_before: Annotated[
        DayOrInstant | None,
        Query(description="Last assessed before (a date, or an ISO 8601 time with its offset)."),
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ChildRiskRead]:
    """For the hub's lists and meeting agendas: e.g. `level=high&level_changed_since=...`
    (became high since the last meeting), `trend=rising`, `review_due_before=...`."""
    filters = service.RiskFilters(
        level=level,
        trend=trend,
        level_changed_since=level_changed_since,
        review_due_before=review_due_before,
        assessed_before=assessed_before,
    )
    rows, next_cursor = service.list_child_risks(session, principal, filters, limit=limit, cursor=cursor)
    return Page[ChildRiskRead](items=[_risk_body(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/children/{child_id}",
    operation_id="getChildRisk",
    summary="A child's current risk",
    response_model=ChildRiskRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_child_risk(child_id: uuid.UUID, session: SessionDep, principal: CaseWorker) -> VersionedJSONResponse:
    """Current level, trend, the assessment it came from and what is due next, with its `ETag`.
    Besides the case workers who may see the child, the one person a break-glass grant
    on it is for (announced by the referral service) reads it too, until the grant
    expires; each such read is audited with the grant."""
    risk = service.child_risk(session, principal, child_id)
    return json_with_etag(_risk_body(risk), risk.row_version)


@router.get(
    "/children/{child_id}/assessments",
    operation_id="listChildAssessments",
    summary="A child's assessment history",
    response_model=Page[AssessmentRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
def list_child_assessments(
    child_id: uuid.UUID,
    session: SessionDep,
    principal: CaseWorker,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[AssessmentRead]:
    """Every assessment, newest first: computed and final levels, overrides and reasons.
    Besides the case workers who may see the child, the one person a break-glass grant
    on it is for (announced by the referral service) reads them too, until the grant
    expires; each such read is audited with the grant."""
    rows, next_cursor = service.history(session, principal, child_id, limit=limit, cursor=cursor)
    return Page[AssessmentRead](
        items=[AssessmentRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/children/{child_id}/screenings",
    operation_id="openScreening",
    summary="Record that screening has opened",
    response_model=ChildRiskRead,
    responses=problem_responses(401, 403, 404, 422),
    openapi_extra=naturally_idempotent(
        "Opening a screening that is already open changes nothing and answers the child's "
        "risk record as it is."
    ),
)
def open_screening(
    child_id: uuid.UUID, body: ScreeningCreate, session: SessionDep, principal: CaseWorker, settings: Settings
) -> VersionedJSONResponse:
    """Starts the clock: an initial assessment is due within 10 working days (configurable)."""
    risk = service.open_screening(
        session, principal, child_id, body, settings.initial_assessment_working_days
    )
    return json_with_etag(_risk_body(risk), risk.row_version)


@router.get(
    "/assessments/{assessment_id}",
    operation_id="getAssessment",
    summary="Read an assessment",
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_assessment(
    assessment_id: uuid.UUID, session: SessionDep, principal: CaseWorker
) -> VersionedJSONResponse:
    """With each indicator's answer, evidence, source and contribution. Besides the case
    workers who may see the child, the one person a break-glass grant on the child is
    for (announced by the referral service) reads it too, until the grant expires; each
    such read is audited with the grant. Overriding it stays with those who may see the
    child."""
    return _assessment_response(service.get_assessment(session, principal, assessment_id))


@router.post(
    "/assessments/{assessment_id}/override",
    operation_id="overrideRiskLevel",
    summary="Set a different final level (professional judgement)",
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def override_risk_level(
    assessment_id: uuid.UUID,
    body: OverrideCreate,
    session: SessionDep,
    principal: LevelOverrider,
    settings: Settings,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Managers only, with a written reason. The computed level stays on record beside the final one."""
    assessment = service.override_level(
        session, principal, assessment_id, body, if_match, review_days(settings), outbox
    )
    return _assessment_response(assessment)
