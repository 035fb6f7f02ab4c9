"""Request and response bodies for meeting series."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from meetings_api.recurrence import BankHolidayRule, never_gives_a_meeting, parse_rule
from meetings_api.series.models import MeetingType
from meetings_api.wall_clock import PLANNING_HORIZON_YEARS, LondonWallClockTime, PlannedWallClockTime
from safeguarding_kit.auth.principal import AgencyType

SERIES_EXAMPLE: dict[str, JsonValue] = {
    "meeting_type": "MACE",
    "title": "Sheffield MACE",
    "chair_agency": "sheffield-social-care",
    "core_agency_types": ["social_care", "police", "health", "education"],
    "quorum_agency_types": ["social_care", "police", "health"],
    "first_meeting_local": "2027-01-06T10:00:00",
    "duration_minutes": 120,
    "rrule": "FREQ=WEEKLY;BYDAY=WE",
    "bank_holiday_rule": "move_to_next_working_day",
    "location": "Howden House, Sheffield",
    "online_link": "https://meet.example.org/sheffield-mace",
}


class SeriesCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [SERIES_EXAMPLE]}
    )

    meeting_type: MeetingType
    title: str = Field(min_length=3, max_length=200)
    chair_agency: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="Slug of the chairing agency."
    )
    core_agency_types: list[AgencyType] = Field(default_factory=list, max_length=7)
    quorum_agency_types: list[AgencyType] = Field(
        default_factory=list,
        max_length=7,
        description="Agency types that must be present for the meeting to be quorate.",
    )
    first_meeting_local: PlannedWallClockTime = Field(
        description="First meeting in Europe/London wall-clock time, without offset: "
        "a 10:00 meeting stays at 10:00 when the clocks change. Within "
        f"{PLANNING_HORIZON_YEARS} years of today."
    )
    duration_minutes: int = Field(90, ge=15, le=8 * 60)
    rrule: str = Field(min_length=6, max_length=500, description="RFC 5545 recurrence rule without DTSTART.")
    bank_holiday_rule: BankHolidayRule = Field(
        BankHolidayRule.move_to_next_working_day,
        description="What an occurrence on an England and Wales bank holiday does: "
        "keep (flagged), skip, or move.",
    )
    location: str | None = Field(None, max_length=300)
    online_link: str | None = Field(None, max_length=500, pattern=r"^https://")

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str, info: ValidationInfo) -> str:
        value = value.removeprefix("RRULE:")
        if "DTSTART" in value.upper():
            raise ValueError("give the first meeting in first_meeting_local, not DTSTART in the rule")
        if any(f"FREQ={f}" in value.upper() for f in ("SECONDLY", "MINUTELY", "HOURLY")):
            raise ValueError("meetings recur daily at most")
        first_local = info.data.get("first_meeting_local") or datetime(2026, 1, 1, 10, 0)
        try:
            parse_rule(value, first_local)
            never = never_gives_a_meeting(value, first_local)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RFC 5545 recurrence rule: {exc}") from exc
        if never:
            raise ValueError("no date ever matches this rule")
        return value


class SeriesRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    **SERIES_EXAMPLE,
                    "timezone": "Europe/London",
                    "continues_series_id": None,
                    "created_at": "2026-11-24T09:15:00Z",
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    meeting_type: MeetingType
    title: str
    chair_agency: str
    core_agency_types: list[AgencyType]
    quorum_agency_types: list[AgencyType]
    first_meeting_local: LondonWallClockTime
    duration_minutes: int
    rrule: str
    bank_holiday_rule: BankHolidayRule
    location: str | None
    online_link: str | None
    timezone: str
    continues_series_id: uuid.UUID | None = Field(
        description="Set when this series continues another after a 'this and following' change."
    )
    created_at: datetime
    version: int = Field(validation_alias="row_version")
