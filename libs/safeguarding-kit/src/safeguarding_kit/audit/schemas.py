"""Response bodies of the auditors' endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AuditEntry(BaseModel):
    """One access to a child's record."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "seq": 48211,
                    "occurred_at": "2026-11-24T10:02:13Z",
                    "actor_sub": "jane.worker@sheffield.gov.example",
                    "actor_agency": "sheffield-social-care",
                    "actor_agency_type": "social_care",
                    "actor_roles": "practitioner",
                    "action": "read",
                    "resource_type": "child",
                    "resource_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "request_id": "4b5a1f9e-4f43-4a43-9f7b-1a5f8f0d2c11",
                    "outcome": "allowed",
                    "detail": None,
                }
            ]
        },
    )

    seq: int
    occurred_at: datetime
    actor_sub: str
    actor_agency: str
    actor_agency_type: str
    actor_roles: str
    action: str
    resource_type: str
    resource_id: str
    child_id: uuid.UUID | None
    request_id: str | None
    outcome: str
    detail: str | None


class ChainVerificationRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ok": True, "checked": 48213, "first_broken_seq": None, "reason": None}]
        }
    )

    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None
