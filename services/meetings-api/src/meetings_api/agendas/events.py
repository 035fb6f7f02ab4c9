"""The event of a decision taken about a child at a meeting: ids, the meeting's kind and
time only, never the decision's text (the referral service's chronology links to it)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from meetings_api.series.models import MeetingType
from safeguarding_kit.cloudevents import EventData


class MeetingDecisionRecorded(EventData):
    """A meeting recorded a decision on an agenda item about this child.

    One event per child on the item (an item about no child announces nothing), so each
    child's chronology hears of it in order with the rest of their events. For the
    referral service only, not published to partners."""

    event_type: ClassVar[str] = "meeting.decision_recorded"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision_id": "6e7f8091-a2b3-4c4d-8e5f-60718293a4b5",
                    "agenda_item_id": "2b3c4d5e-6f70-4819-9a2b-3c4d5e6f7081",
                    "occurrence_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                    "series_id": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                    "meeting_kind": "MACE",
                    "meeting_starts_at": "2027-03-03T10:00:00Z",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                }
            ]
        }
    )

    decision_id: uuid.UUID = Field(description="The decision (`listDecisions` on the item reads it).")
    agenda_item_id: uuid.UUID = Field(description="The agenda item it was taken on.")
    occurrence_id: uuid.UUID = Field(description="The meeting that took it.")
    series_id: uuid.UUID = Field(description="The meeting's series.")
    meeting_kind: MeetingType = Field(description="The kind of meeting (the series' type).")
    meeting_starts_at: AwareDatetime = Field(description="When the meeting starts (UTC).")
    child_id: uuid.UUID = Field(description="The child on the item the decision is about.")

    def subject(self) -> str:
        return str(self.child_id)
