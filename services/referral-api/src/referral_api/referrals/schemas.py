"""Request and response bodies for referrals."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from referral_api.referrals.models import ConcernType, ReferralStatus, Urgency
from safeguarding_kit.auth.principal import AgencyType

MAX_SUMMARY = 20_000


class ReferralCreate(BaseModel):
    """What a partner system sends. Unknown fields are refused, so a caller cannot set
    `status`, `agency` or an id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_reference": "SCH-2026-00417",
                    "concern_types": ["criminal_exploitation", "county_lines"],
                    "summary": "Year 10 pupil seen getting into cars with older males after school; "
                    "new phone and trainers; missing from lessons three times this month.",
                    "urgency": "urgent",
                }
            ]
        },
    )

    source_reference: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="The sending system's own reference; unique per agency.",
    )
    concern_types: list[ConcernType] = Field(min_length=1, max_length=len(ConcernType))
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY, description="What was seen or heard.")
    urgency: Urgency = Urgency.routine


class ReferralRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1c2d1e-8a4b-4c7e-9d2f-3b5a7c9e1f20",
                    "agency": "sheffield-schools",
                    "agency_type": "education",
                    "source_reference": "SCH-2026-00417",
                    "concern_types": ["criminal_exploitation", "county_lines"],
                    "summary": "Year 10 pupil seen getting into cars with older males after school; "
                    "new phone and trainers; missing from lessons three times this month.",
                    "urgency": "urgent",
                    "status": "received",
                    "received_at": "2026-11-24T09:15:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    agency: str
    agency_type: AgencyType
    source_reference: str | None
    concern_types: list[ConcernType]
    summary: str
    urgency: Urgency
    status: ReferralStatus
    received_at: datetime
