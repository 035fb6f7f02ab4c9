"""The event of an action left undone: ids, the owning agency and the date only."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar

from pydantic import ConfigDict, Field

from safeguarding_kit.cloudevents import EventData


class ActionOverdue(EventData):
    """A meeting's action is past its due date and still open.

    Told once per action, from the day after it fell due. A partner hears of it when the
    action is its own agency's, or when the partnership agreement grants its agency
    `chairs_meetings`."""

    event_type: ClassVar[str] = "meeting.action_overdue"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action_id": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "occurrence_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                    "owner_agency": "sheffield-schools",
                    "due_date": "2026-11-20",
                }
            ]
        }
    )

    action_id: uuid.UUID = Field(description="The action (`updateAction` records it done).")
    child_id: uuid.UUID | None = Field(description="The child the action is about; null for none.")
    occurrence_id: uuid.UUID = Field(description="The meeting that agreed the action.")
    owner_agency: str = Field(description="The agency that owns the action.")
    due_date: date = Field(description="When it was due (Europe/London).")

    def subject(self) -> str:
        """The child's id, or for an action about no child the action's own."""
        return str(self.child_id or self.action_id)
