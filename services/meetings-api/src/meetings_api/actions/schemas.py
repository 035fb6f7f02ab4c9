"""Request and response bodies for actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from meetings_api.actions.models import ActionStatus

ACTION_EXAMPLE: dict[str, JsonValue] = {
    "description": "Share disruption plan for the London Road takeaway with licensing.",
    "owner_agency": "south-yorkshire-police",
    "owner_person": "DS Lee Example",
    "due_date": "2027-01-13",
    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
}


class ActionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [ACTION_EXAMPLE]}
    )

    description: str = Field(min_length=3, max_length=4000)
    owner_agency: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    owner_person: str | None = Field(None, max_length=200)
    due_date: date
    child_id: uuid.UUID | None = Field(
        None, description="One of the agenda item's children, if the action is about one."
    )


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "done"}]})

    status: ActionStatus


class ActionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "4d5e6f70-8192-4a3b-9c4d-5e6f70819203",
                    "series_id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    "occurrence_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "agenda_item_id": "2b3c4d5e-6f70-4819-9a2b-3c4d5e6f7081",
                    **ACTION_EXAMPLE,
                    "status": "open",
                    "overdue": False,
                    "completed_at": None,
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    series_id: uuid.UUID
    occurrence_id: uuid.UUID = Field(description="The meeting the action was agreed at.")
    agenda_item_id: uuid.UUID | None
    description: str
    owner_agency: str
    owner_person: str | None
    due_date: date
    child_id: uuid.UUID | None
    status: ActionStatus
    overdue: bool = False
    completed_at: datetime | None
    version: int = Field(validation_alias="row_version")


class OverdueByAgency(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"owner_agency": "south-yorkshire-police", "overdue": 3, "actions": []}]
        }
    )

    owner_agency: str
    overdue: int
    actions: list[ActionRead]
