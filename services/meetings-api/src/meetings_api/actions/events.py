"""The events of a meeting's actions: one left undone (to partners), and one about a child
agreed and closed (to the referral service's chronology). Ids, the owning agency, dates and
statuses only, never the action's description or the person who owns it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from meetings_api.actions.models import ActionStatus
from meetings_api.series.models import MeetingType
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


class MeetingActionAgreed(EventData):
    """A meeting agreed an action about this child. For the referral service only (the
    child's chronology), not published to partners; an action about no child is not told."""

    event_type: ClassVar[str] = "meeting.action_agreed"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action_id": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a",
                    "occurrence_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                    "series_id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    "meeting_kind": "MACE",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "owner_agency": "sheffield-schools",
                    "due_date": "2026-11-20",
                }
            ]
        }
    )

    action_id: uuid.UUID = Field(description="The action.")
    occurrence_id: uuid.UUID = Field(description="The meeting that agreed the action.")
    series_id: uuid.UUID = Field(description="The meeting's series.")
    meeting_kind: MeetingType = Field(description="The kind of meeting (the series' type).")
    child_id: uuid.UUID = Field(description="The child the action is about.")
    owner_agency: str = Field(description="The agency that owns the action.")
    due_date: date = Field(description="When it is due (Europe/London).")

    def subject(self) -> str:
        return str(self.child_id)


ActionClosure = Literal["completed", "cancelled"]
# How the chronology words an action's end: the API's `done` is `completed` there.
CLOSURES: dict[ActionStatus, ActionClosure] = {
    ActionStatus.done: "completed",
    ActionStatus.cancelled: "cancelled",
}


class _ActionAboutAChild(EventData):
    """What every event of an action about a child says: the action, the child, the owner."""

    action_id: uuid.UUID = Field(description="The action.")
    child_id: uuid.UUID = Field(description="The child the action is about.")
    owner_agency: str = Field(description="The agency that owns the action.")

    def subject(self) -> str:
        return str(self.child_id)


class MeetingActionClosed(_ActionAboutAChild):
    """An action about this child was completed or cancelled. Told each time it becomes so
    (an action reopened and done again is told again). For the referral service only (the
    child's chronology), not published to partners."""

    event_type: ClassVar[str] = "meeting.action_closed"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action_id": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "owner_agency": "sheffield-schools",
                    "status": "completed",
                }
            ]
        }
    )

    status: ActionClosure = Field(description="`completed` (marked done) or `cancelled`.")


class MeetingActionReopened(_ActionAboutAChild):
    """An action about this child that was completed or cancelled is open again. For the
    referral service only (the child's chronology), not published to partners."""

    event_type: ClassVar[str] = "meeting.action_reopened"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action_id": "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "owner_agency": "sheffield-schools",
                }
            ]
        }
    )
