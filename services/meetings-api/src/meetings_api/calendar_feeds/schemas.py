"""Request and response bodies for calendar feeds."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

FEED_EXAMPLE: dict[str, JsonValue] = {
    "id": "0f6c1e2d-3b4a-4c5d-8e9f-1a2b3c4d5e6f",
    "label": "MACE on my work phone",
    "series_ids": ["8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f"],
    "owner_sub": "jo.example@sheffield-social-care",
    "owner_agency": "sheffield-social-care",
    "created_at": "2026-11-29T09:00:00Z",
    "expires_at": "2027-05-28T09:00:00Z",
    "last_used_at": "2026-11-29T09:05:00Z",
    "revoked_at": None,
}


class CalendarFeedCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "label": "MACE on my work phone",
                    "series_ids": ["8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f"],
                    "valid_days": 180,
                }
            ]
        },
    )

    label: str = Field(
        min_length=1, max_length=100, description="Your name for the feed, to tell your feeds apart."
    )
    series_ids: list[uuid.UUID] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="The series to subscribe to (ids from `listMeetingSeries`); leave out or null "
        "for every series you may see, including series created later. A series split by a "
        "'this and following' change is followed into the series continuing it.",
    )
    valid_days: int = Field(
        180,
        ge=1,
        le=366,
        description="Days until the feed address stops working; create a new one then.",
    )


class CalendarFeedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [FEED_EXAMPLE]})

    id: uuid.UUID
    label: str
    series_ids: list[uuid.UUID] | None = Field(description="null: every series the owner may see.")
    owner_sub: str = Field(description="Who created the feed (their token's `sub`).")
    owner_agency: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="When a calendar app last read the feed.")
    revoked_at: datetime | None


class CalendarFeedCreated(CalendarFeedRead):
    """The new feed with its address, shown this once: only a hash of its token is kept."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **FEED_EXAMPLE,
                    "last_used_at": None,
                    "url": "https://safeguarding.example/api/v1/meetings/calendar-feeds/"
                    "q3Xw1TnYb8V0cL5sZk2PpRm9HdJf4GeAu7NiOy6BxEt.ics",
                }
            ]
        },
    )

    url: str = Field(
        description="The address to give your calendar app ('subscribe by URL'). Anyone holding it "
        "reads the feed without signing in, so keep it like a password; it is shown only now."
    )
