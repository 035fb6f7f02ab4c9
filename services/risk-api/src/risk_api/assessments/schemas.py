"""Request and response bodies for assessments and a child's risk."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from risk_api.vocabularies import Answer, RiskLevel, Trend
from safeguarding_kit.db import UtcTimestamp

ANSWER_EXAMPLE: dict[str, JsonValue] = {
    "indicator_code": "hotel_with_adults",
    "answer": "present",
    "evidence": "Found by police at a hotel with two adults on 18 November.",
    "source_agency": "south-yorkshire-police",
}


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    indicator_code: str = Field(max_length=60)
    answer: Answer
    evidence: str | None = Field(None, max_length=4000)
    source_agency: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Agency the evidence came from."
    )


class AssessmentCreate(BaseModel):
    """Answers to a model's indicators. Indicators not answered count as not known.
    The child is the opaque `child_id` from the referral service; no names here."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model_id": None,
                    "age_at_assessment": 14,
                    "answers": [
                        ANSWER_EXAMPLE,
                        {
                            "indicator_code": "missing_repeat",
                            "answer": "present",
                            "evidence": "4 episodes since September",
                            "source_agency": "sheffield-social-care",
                        },
                        {"indicator_code": "substance_use", "answer": "absent"},
                    ],
                }
            ]
        },
    )

    model_id: uuid.UUID | None = Field(
        None, description="A published model version; the latest published when omitted."
    )
    age_at_assessment: int | None = Field(None, ge=0, le=25, description="For the model's age modifiers.")
    answers: list[AnswerIn] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _each_indicator_once(self) -> Self:
        codes = [a.indicator_code for a in self.answers]
        if len(set(codes)) != len(codes):
            raise ValueError("an indicator is answered twice")
        return self


class OverrideCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "level": "high",
                    "reason": "Score understates risk: new intelligence from CETG about the adults involved.",
                }
            ]
        },
    )

    level: RiskLevel
    reason: str = Field(
        min_length=10, max_length=4000, description="Why professional judgement differs from the score."
    )


class ScreeningCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"opened_at": "2026-11-24T09:20:00Z"}]}
    )

    opened_at: UtcTimestamp | None = Field(None, description="When screening began; now when omitted.")


class AnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    indicator_code: str
    answer: Answer
    evidence: str | None
    source_agency: str | None
    contribution: int = Field(description="Points this answer added to the score.")


class AssessmentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "model_id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
                    "assessed_by": "risk.assessor@sheffield.gov.example",
                    "assessed_agency": "sheffield-social-care",
                    "assessed_at": "2026-11-24T10:00:00Z",
                    "age_at_assessment": 14,
                    "score": 6,
                    "age_points": 0,
                    "computed_level": "high",
                    "final_level": "high",
                    "hard_triggers": ["hotel_with_adults"],
                    "override_reason": None,
                    "override_by": None,
                    "override_at": None,
                    "answers": [{**ANSWER_EXAMPLE, "contribution": 3}],
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    child_id: uuid.UUID
    model_id: uuid.UUID
    assessed_by: str
    assessed_agency: str
    assessed_at: datetime
    age_at_assessment: int | None
    score: int
    age_points: int
    computed_level: RiskLevel = Field(description="The level the score gives.")
    final_level: RiskLevel = Field(
        description="The level that counts: a manager's override, else the computed one."
    )
    hard_triggers: list[str] = Field(
        default_factory=list, description="Indicators that made the child high whatever the total."
    )
    override_reason: str | None
    override_by: str | None
    override_at: datetime | None
    answers: list[AnswerRead]
    version: int = Field(
        validation_alias="row_version", description="Also the ETag; send it in If-Match to override."
    )


class ChildRiskRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "current_level": "high",
                    "previous_level": "medium",
                    "trend": "rising",
                    "assessment_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "assessments_count": 3,
                    "last_assessed_at": "2026-11-24T10:00:00Z",
                    "level_changed_at": "2026-11-24T10:00:00Z",
                    "next_review_due": "2026-12-22T10:00:00Z",
                    "review_overdue": False,
                    "screening_opened_at": "2026-11-02T09:20:00Z",
                    "initial_assessment_due": "2026-11-16T09:20:00Z",
                    "version": 4,
                }
            ]
        },
    )

    child_id: uuid.UUID
    current_level: RiskLevel | None
    previous_level: RiskLevel | None
    trend: Trend | None
    assessment_id: uuid.UUID | None
    assessments_count: int
    last_assessed_at: datetime | None
    level_changed_at: datetime | None = Field(description="When the current level was reached.")
    next_review_due: datetime | None
    review_overdue: bool = False
    screening_opened_at: datetime | None
    initial_assessment_due: datetime | None = Field(
        description="Within 10 working days of screening opening."
    )
    version: int = Field(
        validation_alias="row_version", description="Also the ETag; send it in If-Match to assess."
    )
