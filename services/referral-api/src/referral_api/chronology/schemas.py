"""The chronology as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from referral_api.chronology.models import ChronologyKind

_EXAMPLE: dict[str, Any] = {
    "id": "0f1e2d3c-4b5a-4968-8776-655443322110",
    "kind": "support_started",
    "occurred_at": "2026-10-20T15:00:00Z",
    "recorded_at": "2026-10-20T16:12:04Z",
    "source": "referral-api",
    "summary": "Support started after 19 days' wait: therapeutic post abuse support from post-abuse-support",
    "record": {
        "type": "support",
        "id": "3c9e1d42-6b7a-4f08-9e15-2a4d6c8b0f17",
        "href": "/api/v1/support/3c9e1d42-6b7a-4f08-9e15-2a4d6c8b0f17",
    },
    "details": {
        "support_id": "3c9e1d42-6b7a-4f08-9e15-2a4d6c8b0f17",
        "kind": "therapeutic_post_abuse_support",
        "provider_service": "post-abuse-support",
        "provider_agency": None,
        "waiting_days": 19,
    },
    "event_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
}


class ChronologyRecord(BaseModel):
    """The record an entry is about."""

    type: str = Field(
        description="referral, missing_episode, assessment, child_risk, meeting, action, support or "
        "disruption_action."
    )
    id: uuid.UUID
    href: str | None = Field(
        description="The gateway path that reads it, for those who may (null for a meeting's action, "
        "listed with its meeting's actions)."
    )


class ChronologyEntryRead(BaseModel):
    """One step in a child's life on the platform: ids, kinds, levels and dates, never a name
    or free text (read the record for more, if you may)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: uuid.UUID = Field(description="The entry's id.")
    kind: ChronologyKind
    occurred_at: datetime = Field(
        description="When it happened, as its record says (a missing episode reported late is placed "
        "when the child went missing). Entries are newest first by this time."
    )
    recorded_at: datetime = Field(description="When the platform heard of it.")
    source: str = Field(description="The service that told: `referral-api`, `risk-api` or `meetings-api`.")
    summary: str = Field(description="The step in plain words.")
    record: ChronologyRecord
    details: dict[str, Any] = Field(
        description="The step's ids, kinds, levels, agencies and dates, by name (depends on `kind`)."
    )
    event_id: uuid.UUID = Field(description="The event the entry was kept from.")
