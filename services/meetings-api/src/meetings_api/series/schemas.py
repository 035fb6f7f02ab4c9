"""Request and response bodies for meeting series."""

from __future__ import annotations

import uuid
from datetime import datetime

from dateutil.rrule import rrulestr
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from meetings_api.series.models import MeetingType

_EXAMPLE: dict[str, JsonValue] = {
    "meeting_type": "MACE",
    "title": "Sheffield MACE",
    "chair_agency": "sheffield-social-care",
    "starts_at": "2027-01-06T10:00:00Z",
    "rrule": "FREQ=WEEKLY;BYDAY=WE",
}


class SeriesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    meeting_type: MeetingType
    title: str = Field(min_length=3, max_length=200)
    chair_agency: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Slug of the chairing agency."
    )
    starts_at: AwareDatetime = Field(description="First meeting, with its UTC offset.")
    rrule: str = Field(
        min_length=6,
        max_length=500,
        description="RFC 5545 recurrence rule (without DTSTART), applied in Europe/London time.",
    )

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str) -> str:
        if "DTSTART" in value.upper():
            raise ValueError("give the first meeting in starts_at, not DTSTART in the rule")
        try:
            rrulestr(value.removeprefix("RRULE:"), dtstart=datetime(2026, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RFC 5545 recurrence rule: {exc}") from exc
        return value.removeprefix("RRULE:")


class SeriesRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    **_EXAMPLE,
                    "timezone": "Europe/London",
                    "created_at": "2026-11-24T09:15:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    meeting_type: MeetingType
    title: str
    chair_agency: str
    starts_at: datetime
    rrule: str
    timezone: str
    created_at: datetime
