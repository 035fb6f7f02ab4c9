"""Request and response bodies for occurrences and attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from meetings_api.occurrences.models import AttendanceStatus, OccurrenceStatus
from meetings_api.wall_clock import PlannedWallClockTime
from safeguarding_kit.auth.principal import AgencyType


class EditScope(StrEnum):
    this = "this"
    following = "following"
    all = "all"


class OccurrenceRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "series_id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    "original_start": "2027-04-05T09:00:00Z",
                    "starts_at": "2027-04-06T09:00:00Z",
                    "ends_at": "2027-04-06T11:00:00Z",
                    "status": "scheduled",
                    "bank_holiday": "Easter Monday",
                    "moved": False,
                    "cancel_reason": None,
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    series_id: uuid.UUID
    original_start: datetime = Field(
        description="The rule's date for this meeting: its identity in the series."
    )
    starts_at: datetime
    ends_at: datetime
    status: OccurrenceStatus
    bank_holiday: str | None = Field(description="The bank holiday the rule's date fell on, if any.")
    moved: bool
    cancel_reason: str | None
    version: int = Field(validation_alias="row_version")


class RescheduleCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"starts_at_local": "2027-04-07T14:00:00", "scope": "this"}]},
    )

    starts_at_local: PlannedWallClockTime = Field(
        description="New start in Europe/London wall-clock time, within 10 years of today."
    )
    duration_minutes: int | None = Field(None, ge=15, le=8 * 60)
    scope: EditScope = Field(EditScope.this, description="this one, this and following, or all upcoming.")


class CancelCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"reason": "Chair unavailable; items moved to next week.", "scope": "this"}]
        },
    )

    reason: str = Field(min_length=3, max_length=500)
    scope: EditScope = EditScope.this


class AttendeeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agency: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    agency_type: AgencyType
    person_name: str = Field(
        min_length=1, max_length=200, description="The professional attending (never a child)."
    )
    role: str | None = Field(None, max_length=200)
    status: AttendanceStatus


class AttendanceUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "attendees": [
                        {
                            "agency": "sheffield-social-care",
                            "agency_type": "social_care",
                            "person_name": "Jo Chair",
                            "role": "Chair",
                            "status": "present",
                        },
                        {
                            "agency": "south-yorkshire-police",
                            "agency_type": "police",
                            "person_name": "DS Lee Example",
                            "status": "present",
                        },
                        {
                            "agency": "sheffield-health",
                            "agency_type": "health",
                            "person_name": "Sam Nurse",
                            "status": "apologies",
                        },
                    ]
                }
            ]
        },
    )

    attendees: list[AttendeeIn] = Field(max_length=100)


class AttendanceRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurrence_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "attendees": [
                        {
                            "agency": "sheffield-social-care",
                            "agency_type": "social_care",
                            "person_name": "Jo Chair",
                            "role": "Chair",
                            "status": "present",
                        }
                    ],
                    "quorate": False,
                    "missing_for_quorum": ["police", "health"],
                }
            ]
        }
    )

    occurrence_id: uuid.UUID
    attendees: list[AttendeeIn]
    quorate: bool
    missing_for_quorum: list[AgencyType]
