"""Request and response bodies for missing episodes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from safeguarding_kit.db import UtcTimestamp


class EpisodeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "reported_missing_at": "2026-10-09T07:30:00Z",
                }
            ]
        },
    )

    child_id: uuid.UUID = Field(description="A child you can see, from GET /api/v1/children.")
    reported_missing_at: UtcTimestamp


class FoundCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "found_at": "2026-10-09T17:00:00Z",
                    "found_location": "Meadowhall bus interchange, with older youths",
                }
            ]
        },
    )

    found_at: UtcTimestamp
    found_location: str | None = Field(
        None, max_length=500, description="Where the child was found (not their home)."
    )


class InterviewOutcome(StrEnum):
    offered = "offered"
    completed = "completed"
    declined = "declined"


class InterviewCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "outcome": "completed",
                    "at": "2026-10-10T15:00:00Z",
                    "notes": "Independent worker; child spoke about pressure to carry.",
                }
            ]
        },
    )

    outcome: InterviewOutcome
    at: UtcTimestamp
    notes: str | None = Field(None, max_length=4000)


class EpisodeRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "reported_by_agency": "south-yorkshire-police",
                    "reported_missing_at": "2026-10-09T07:30:00Z",
                    "found_at": "2026-10-09T17:00:00Z",
                    "found_location": "Meadowhall bus interchange",
                    "rhi_due_at": "2026-10-12T17:00:00Z",
                    "rhi_overdue": False,
                    "rhi_offered_at": "2026-10-10T09:00:00Z",
                    "rhi_completed_at": None,
                    "rhi_declined_at": None,
                    "version": 3,
                }
            ]
        },
    )

    id: uuid.UUID
    child_id: uuid.UUID
    reported_by_agency: str
    reported_missing_at: datetime
    found_at: datetime | None
    found_location: str | None
    rhi_due_at: datetime | None = Field(
        description="Return-home interview due: 72 hours after the child was found."
    )
    rhi_overdue: bool = False
    rhi_offered_at: datetime | None
    rhi_completed_at: datetime | None
    rhi_declined_at: datetime | None
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to update.",
    )
