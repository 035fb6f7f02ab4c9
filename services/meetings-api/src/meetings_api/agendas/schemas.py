"""Request and response bodies for agendas, minutes and decisions."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from meetings_api.agendas.models import ItemKind, ItemSource

ITEM_EXAMPLE: dict[str, JsonValue] = {
    "id": "2b3c4d5e-6f70-4819-9a2b-3c4d5e6f7081",
    "occurrence_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "position": 1,
    "kind": "child",
    "source": "generated",
    "child_ids": ["5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"],
    "subject_id": None,
    "title": "Child 5b0e8c3a",
    "reasons": [{"code": "became_high", "detail": "Risk became high since the last meeting"}],
    "minutes": None,
    "version": 1,
}


class Reason(BaseModel):
    code: str
    detail: str


class AgendaItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [ITEM_EXAMPLE]})

    id: uuid.UUID
    occurrence_id: uuid.UUID
    position: int
    kind: ItemKind
    source: ItemSource
    child_ids: list[uuid.UUID] = Field(
        description="Opaque ids from the referral service; names are never held here."
    )
    subject_id: uuid.UUID | None = Field(
        description="A person or place of concern, for CETG and mapping items."
    )
    title: str
    reasons: list[Reason]
    minutes: str | None
    version: int = Field(validation_alias="row_version")


class AgendaItemCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "children_group",
                    "title": "Siblings seen with the same adults",
                    "child_ids": [
                        "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                        "6c1f9d4b-8a32-4e7f-b0c5-1d2e3f4a5b6c",
                    ],
                    "reason": "Raised by police: linked through one adult",
                }
            ]
        },
    )

    kind: ItemKind
    title: str = Field(min_length=3, max_length=300, description="No child's name: use ids.")
    child_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    subject_id: uuid.UUID | None = None
    reason: str = Field(min_length=3, max_length=500)


class AgendaItemUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"position": 1, "minutes": "Police shared intelligence; plan agreed."}]
        },
    )

    position: int | None = Field(None, ge=1, le=500, description="Move the item to this place (1 is first).")
    minutes: str | None = Field(None, max_length=20_000)


class DecisionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"text": "Escalate to strategy discussion under section 47."}]},
    )

    text: str = Field(min_length=3, max_length=4000)


class DecisionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3c4d5e6f-7081-4a2b-9c3d-4e5f60718293",
                    "text": "Escalate.",
                    "recorded_by": "jo.chair@sheffield.gov.example",
                    "recorded_at": "2027-01-06T11:05:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    text: str
    recorded_by: str
    recorded_at: datetime
