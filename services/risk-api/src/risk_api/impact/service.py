"""Impact analysis: re-score every child's current assessment under a model version
in the database, as one set-based query (no query per child), and report movements."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildRisk
from risk_api.impact.schemas import ImpactRead, LevelChange, Movement
from risk_api.risk_models import service as models_service
from risk_api.risk_models.models import RiskIndicator, RiskModel
from risk_api.vocabularies import Answer, RiskLevel


def _age_points(age: Any, modifiers: list[dict[str, Any]]) -> ColumnElement[int]:
    ordered = sorted(modifiers, key=lambda m: -int(m["points"]))
    if not ordered:
        return literal(0)
    return case(*[(age <= int(m["max_age"]), int(m["points"])) for m in ordered], else_=0)


def rescored_levels(model: RiskModel) -> Any:
    """A subquery: child_id, from_level, to_level and overridden, for every child with
    a current assessment, scored under ``model``."""
    answer_weight = case((AssessmentAnswer.answer == Answer.present.value, RiskIndicator.weight), else_=0)
    triggered = case(
        (and_(AssessmentAnswer.answer == Answer.present.value, RiskIndicator.hard_trigger.is_(True)), 1),
        else_=0,
    )
    score = func.coalesce(func.sum(answer_weight), 0) + _age_points(
        Assessment.age_at_assessment, model.age_modifiers
    )
    to_level = case(
        (func.max(triggered) == 1, RiskLevel.high.value),
        (score >= model.high_from, RiskLevel.high.value),
        (score >= model.medium_from, RiskLevel.medium.value),
        else_=RiskLevel.low.value,
    )
    overridden = Assessment.final_level != Assessment.computed_level
    return (
        select(
            ChildRisk.child_id.label("child_id"),
            ChildRisk.current_level.label("from_level"),
            to_level.label("to_level"),
            overridden.label("overridden"),
        )
        .join(Assessment, Assessment.id == ChildRisk.assessment_id)
        .outerjoin(AssessmentAnswer, AssessmentAnswer.assessment_id == Assessment.id)
        .outerjoin(
            RiskIndicator,
            and_(RiskIndicator.model_id == model.id, RiskIndicator.code == AssessmentAnswer.indicator_code),
        )
        .group_by(ChildRisk.child_id, ChildRisk.current_level, Assessment.age_at_assessment, overridden)
        .subquery("rescored")
    )


def impact_of(session: Session, model_id: uuid.UUID, *, changes_limit: int) -> ImpactRead:
    """Which children would change level under the model, and how. Reads only."""
    model = models_service.get_model(session, model_id)
    rescored = rescored_levels(model)
    movements = session.execute(
        select(
            rescored.c.from_level,
            rescored.c.to_level,
            func.count().label("children"),
            func.sum(case((rescored.c.overridden, 1), else_=0)).label("overridden"),
        )
        .group_by(rescored.c.from_level, rescored.c.to_level)
        .order_by(rescored.c.from_level, rescored.c.to_level)
    ).all()
    changes = session.execute(
        select(rescored.c.child_id, rescored.c.from_level, rescored.c.to_level)
        .where(rescored.c.from_level != rescored.c.to_level)
        .order_by(rescored.c.child_id)
        .limit(changes_limit + 1)
    ).all()
    session.rollback()  # nothing was written; end the read transaction
    changing = sum(m.children for m in movements if m.from_level != m.to_level)
    return ImpactRead(
        model_id=model.id,
        children_assessed=sum(m.children for m in movements),
        children_changing=changing,
        overridden_children=sum(int(m.overridden or 0) for m in movements),
        movements=[
            Movement(from_level=m.from_level, to_level=m.to_level, children=m.children) for m in movements
        ],
        changes=[
            LevelChange(child_id=c.child_id, from_level=c.from_level, to_level=c.to_level)
            for c in changes[:changes_limit]
        ],
        changes_truncated=len(changes) > changes_limit,
    )
