"""The subject access extract of one child's risk: everything this service holds about
the child, with assessors and managers given by agency only."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from risk_api import audit_trail
from risk_api.assessments.models import Assessment, ChildRisk
from risk_api.database import AUDIT
from risk_api.risk_models.models import RiskIndicator, RiskModel
from risk_api.subject_access.schemas import (
    ExtractAnswer,
    ExtractAssessment,
    ExtractCurrentRisk,
    LevelChange,
    RiskSubjectAccessExtract,
)
from safeguarding_kit.audit.recipients import recipients_of_child
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now


def _assessment(
    assessment: Assessment, model: RiskModel, wording: dict[tuple[uuid.UUID, str], str]
) -> ExtractAssessment:
    return ExtractAssessment(
        id=assessment.id,
        assessed_at=assessment.assessed_at,
        assessed_agency=assessment.assessed_agency,
        model_name=model.name,
        model_version=model.version,
        age_at_assessment=assessment.age_at_assessment,
        score=assessment.score,
        age_points=assessment.age_points,
        computed_level=assessment.computed_level,
        final_level=assessment.final_level,
        hard_triggers=list(assessment.hard_triggers),
        overridden=assessment.override_at is not None,
        override_reason=assessment.override_reason,
        override_at=assessment.override_at,
        answers=[
            ExtractAnswer(
                indicator_code=answer.indicator_code,
                indicator_wording=wording.get((assessment.model_id, answer.indicator_code)),
                answer=answer.answer,
                evidence=answer.evidence,
                source_agency=answer.source_agency,
                contribution=answer.contribution,
            )
            for answer in assessment.answers
        ],
    )


def level_history(assessments: list[Assessment]) -> list[LevelChange]:
    """Each assessment (oldest first) that moved the child to another final level."""
    changes: list[LevelChange] = []
    for assessment in assessments:
        if not changes or changes[-1].level is not assessment.final_level:
            changes.append(
                LevelChange(
                    at=assessment.assessed_at, level=assessment.final_level, assessment_id=assessment.id
                )
            )
    return changes


def subject_access_extract(
    session: Session, principal: Principal, child_id: uuid.UUID
) -> RiskSubjectAccessExtract:
    """Everything held here about the child (an empty extract for a child never screened
    here), for a subject access request; the read is audited. Commits."""
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.child_id == child_id)
            .options(selectinload(Assessment.answers))
            .order_by(Assessment.assessed_at, Assessment.id)
        )
    )
    model_ids = {a.model_id for a in assessments}
    models = {m.id: m for m in session.scalars(select(RiskModel).where(RiskModel.id.in_(model_ids)))}
    wording = {
        (i.model_id, i.code): i.wording
        for i in session.scalars(select(RiskIndicator).where(RiskIndicator.model_id.in_(model_ids)))
    }
    risk = session.get(ChildRisk, child_id)
    extract = RiskSubjectAccessExtract(
        child_id=child_id,
        extracted_at=utc_now(),
        current_risk=None
        if risk is None
        else ExtractCurrentRisk(
            current_level=risk.current_level,
            previous_level=risk.previous_level,
            trend=risk.trend,
            last_assessed_at=risk.last_assessed_at,
            level_changed_at=risk.level_changed_at,
            next_review_due=risk.next_review_due,
            screening_opened_at=risk.screening_opened_at,
            initial_assessment_due=risk.initial_assessment_due,
        ),
        assessments=[_assessment(a, models[a.model_id], wording) for a in assessments],
        level_history=level_history(assessments),
        access=recipients_of_child(session, AUDIT, [child_id]),
    )
    audit_trail.record(
        session,
        principal,
        "read",
        "subject_access_extract",
        child_id,
        child_id,
        detail=f"{len(assessments)} assessments",
    )
    session.commit()
    return extract
