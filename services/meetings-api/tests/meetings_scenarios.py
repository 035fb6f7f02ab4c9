"""Who calls the meetings service in its tests, and what they send."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
PROBLEM = "application/problem+json"
COORDINATOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["meeting_coordinator"],
    "sub": "coordinator-1",
}
POLICE = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
YOUTH_WORKER = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["practitioner"]}


def series_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type": "MACE",
        "title": "Sheffield MACE",
        "chair_agency": "sheffield-social-care",
        "core_agency_types": ["social_care", "police", "health", "education"],
        "quorum_agency_types": ["social_care", "police", "health"],
        "first_meeting_local": "2027-03-03T10:00:00",
        "duration_minutes": 120,
        "rrule": "FREQ=WEEKLY;BYDAY=WE",
        "bank_holiday_rule": "move_to_next_working_day",
        "location": "Howden House",
    }
    body.update(overrides)
    return body


def first_meeting_in_two_days_local() -> str:
    """10:00 London time the day after tomorrow: whatever the time of day the tests run, a
    review falling due a day after an assessment made now is due before this meeting."""
    day = (datetime.now(LONDON) + timedelta(days=2)).date()
    return f"{day.isoformat()}T10:00:00"
