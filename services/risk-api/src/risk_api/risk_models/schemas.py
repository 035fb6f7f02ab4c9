"""Request and response bodies for risk models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from risk_api.risk_models.models import ModelStatus
from risk_api.vocabularies import ExploitationType, IndicatorCategory

INDICATOR_EXAMPLE: dict[str, JsonValue] = {
    "code": "hotel_with_adults",
    "wording": "Taken to or found in hotels or B&Bs with adults",
    "category": "location",
    "exploitation_type": "sexual",
    "weight": 3,
    "hard_trigger": True,
}
MODEL_EXAMPLE: dict[str, JsonValue] = {
    "name": "Sheffield CE screening",
    "description": "Regional weights agreed at the practitioner workshop.",
    "medium_from": 8,
    "high_from": 16,
    "age_modifiers": [{"max_age": 13, "points": 3}],
    "indicators": [
        INDICATOR_EXAMPLE,
        {
            "code": "missing_repeat",
            "wording": "Missing three or more times in 90 days",
            "category": "missing",
            "exploitation_type": "both",
            "weight": 3,
            "hard_trigger": False,
        },
    ],
}


class Indicator(BaseModel):
    model_config = ConfigDict(
        extra="forbid", from_attributes=True, json_schema_extra={"examples": [INDICATOR_EXAMPLE]}
    )

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$", description="Stable code answers refer to.")
    wording: str = Field(min_length=3, max_length=500)
    category: IndicatorCategory
    exploitation_type: ExploitationType
    weight: int = Field(
        ge=0, le=10, description="Points when present; published tools grade 1 low, 2 medium, 3 high."
    )
    hard_trigger: bool = Field(False, description="When present, the child is high risk whatever the total.")


class AgeModifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_age: int = Field(ge=0, le=25, description="Applies to children of this age or younger.")
    points: int = Field(ge=0, le=20)


class RiskModelCreate(BaseModel):
    """A draft model version: thresholds, age modifiers and indicators. Band edges:
    score < medium_from is low; medium_from <= score < high_from is medium; high from high_from."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [MODEL_EXAMPLE]})

    name: str = Field(min_length=3, max_length=120)
    description: str = Field("", max_length=4000)
    medium_from: int = Field(ge=1, le=1000)
    high_from: int = Field(ge=2, le=1000)
    age_modifiers: list[AgeModifier] = Field(default_factory=list, max_length=10)
    indicators: list[Indicator] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.medium_from >= self.high_from:
            raise ValueError("medium_from must be below high_from")
        codes = [i.code for i in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError("indicator codes must be unique within a model")
        return self


class RiskModelRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
                    **MODEL_EXAMPLE,
                    "version": 2,
                    "status": "draft",
                    "created_at": "2026-11-24T09:15:00Z",
                    "publication_requested_by": "a.khan@sheffield.gov.example",
                    "publication_requested_at": "2026-11-29T10:05:00Z",
                    "published_by": None,
                    "published_at": None,
                    "etag_version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    version: int
    description: str
    status: ModelStatus
    medium_from: int
    high_from: int
    age_modifiers: list[AgeModifier]
    indicators: list[Indicator]
    created_at: datetime
    publication_requested_by: str | None = Field(
        description="The governing admin who asked for this version's publication (maker)."
    )
    publication_requested_at: datetime | None
    published_by: str | None = Field(
        description="The second governing admin who approved the request, which published it (checker)."
    )
    published_at: datetime | None
    etag_version: int = Field(
        validation_alias="row_version", description="Also the ETag; send it in If-Match."
    )
