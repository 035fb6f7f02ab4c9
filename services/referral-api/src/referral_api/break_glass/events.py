"""The event announcing a break-glass grant: ids only, never the reason (which may name
people) nor anything of the child."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from safeguarding_kit.cloudevents import EventData


class BreakGlassGranted(EventData):
    """A case worker broke glass: opened a child's record their agency is not linked to.

    Only the webhooks of agencies the partnership agreement grants `audits` hear of it,
    whatever children they may see, so that information governance can review the grant
    (`listBreakGlassGrants`). The risk service opens the child's risk to the same person
    until the grant expires."""

    event_type: ClassVar[str] = "access.break_glass"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grant_id": "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "agency": "sheffield-youth",
                    "granted_to": "duty.worker@sheffield-youth",
                    "expires_at": "2026-11-26T09:30:00Z",
                }
            ]
        }
    )

    grant_id: uuid.UUID = Field(description="The grant.")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    agency: str = Field(description="The agency of the person who broke glass.")
    granted_to: str = Field(description="Who broke glass: their token's `sub`.")
    expires_at: AwareDatetime = Field(description="When the grant ends.")

    def subject(self) -> str:
        return str(self.child_id)
