"""Request and response bodies for break-glass access."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MIN_REASON_LENGTH = 20


class BreakGlassCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "reason": "Child found at 02:00 in a hotel with adults; out-of-hours duty worker "
                    "needs the record to plan tonight's placement."
                }
            ]
        },
    )

    reason: str = Field(
        min_length=MIN_REASON_LENGTH,
        max_length=1000,
        description="Why you must open this record now. Auditors review it; it is kept with the "
        "grant and with every read made under it.",
    )


class BreakGlassGrantRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8d3f2a61-4c0e-4f9b-b1d7-5e6a7b8c9d0e",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "sub": "duty.worker@sheffield-youth.example",
                    "agency": "sheffield-youth",
                    "reason": "Child found at 02:00 in a hotel with adults; out-of-hours duty worker "
                    "needs the record to plan tonight's placement.",
                    "granted_at": "2026-11-29T02:10:00Z",
                    "expires_at": "2026-11-30T02:10:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    child_id: uuid.UUID
    sub: str = Field(description="The person the grant is for; nobody else at their agency gains access.")
    agency: str
    reason: str
    granted_at: datetime
    expires_at: datetime = Field(description="After this moment the grant opens nothing.")
