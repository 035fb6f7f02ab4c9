"""The risk service's subject access extract of one child: their current risk, every
assessment with its answers, the level over time, and who read or changed their risk
(by agency and role). Assessors and managers appear by agency only: no person's id."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from risk_api.vocabularies import Answer, RiskLevel, Trend
from safeguarding_kit.audit.recipients import RECIPIENT_EXAMPLE, AccessRecipient

CHILD_ID = "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"
ASSESSMENT_EXAMPLE: dict[str, JsonValue] = {
    "id": "4d5e6f70-8192-4a3b-8c4d-5e6f70819203",
    "assessed_at": "2026-11-25T14:30:00Z",
    "assessed_agency": "sheffield-social-care",
    "model_name": "Sheffield child exploitation tracker",
    "model_version": 3,
    "age_at_assessment": 15,
    "score": 17,
    "age_points": 0,
    "computed_level": "high",
    "final_level": "high",
    "hard_triggers": [],
    "overridden": False,
    "override_reason": None,
    "override_at": None,
    "answers": [
        {
            "indicator_code": "missing_repeat",
            "indicator_wording": "Missing from home or care three or more times in 90 days",
            "answer": "present",
            "evidence": "Reported missing three times in October.",
            "source_agency": "south-yorkshire-police",
            "contribution": 3,
        }
    ],
}


class ExtractAnswer(BaseModel):
    indicator_code: str
    indicator_wording: str | None = Field(description="The indicator as the model words it.")
    answer: Answer
    evidence: str | None
    source_agency: str | None
    contribution: int


class ExtractAssessment(BaseModel):
    """One assessment; who assessed it is given by agency only."""

    id: uuid.UUID
    assessed_at: datetime
    assessed_agency: str
    model_name: str
    model_version: int
    age_at_assessment: int | None
    score: int
    age_points: int
    computed_level: RiskLevel
    final_level: RiskLevel
    hard_triggers: list[str]
    overridden: bool = Field(description="A manager set the final level by professional judgement.")
    override_reason: str | None
    override_at: datetime | None
    answers: list[ExtractAnswer]


class ExtractCurrentRisk(BaseModel):
    current_level: RiskLevel | None
    previous_level: RiskLevel | None
    trend: Trend | None
    last_assessed_at: datetime | None
    level_changed_at: datetime | None
    next_review_due: datetime | None
    screening_opened_at: datetime | None
    initial_assessment_due: datetime | None


class LevelChange(BaseModel):
    """The child's risk level from ``at`` (the assessment that set it)."""

    at: datetime
    level: RiskLevel
    assessment_id: uuid.UUID


class RiskSubjectAccessExtract(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": CHILD_ID,
                    "extracted_at": "2026-12-06T10:00:00Z",
                    "current_risk": {
                        "current_level": "high",
                        "previous_level": "medium",
                        "trend": "rising",
                        "last_assessed_at": "2026-11-25T14:30:00Z",
                        "level_changed_at": "2026-11-25T14:30:00Z",
                        "next_review_due": "2026-12-23T14:30:00Z",
                        "screening_opened_at": "2026-10-02T09:00:00Z",
                        "initial_assessment_due": None,
                    },
                    "assessments": [ASSESSMENT_EXAMPLE],
                    "level_history": [
                        {
                            "at": "2026-11-25T14:30:00Z",
                            "level": "high",
                            "assessment_id": ASSESSMENT_EXAMPLE["id"],
                        }
                    ],
                    "access": [{**RECIPIENT_EXAMPLE, "resource_type": "assessment"}],
                }
            ]
        }
    )

    child_id: uuid.UUID
    extracted_at: datetime
    current_risk: ExtractCurrentRisk | None = Field(
        description="Null when the child was never screened here."
    )
    assessments: list[ExtractAssessment] = Field(description="Oldest first.")
    level_history: list[LevelChange] = Field(description="Each change of level, oldest first.")
    access: list[AccessRecipient] = Field(
        description="Who read or changed the child's risk, by agency and role, most recent first."
    )
