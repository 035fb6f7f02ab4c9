"""The meetings service's subject access extract of one child: the agenda items that
discussed them with their minutes and decisions, the actions about them, and who read or
changed those records (by agency and role). Other children never appear: their ids are
removed from every item, and from its text."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from meetings_api.actions.models import ActionStatus
from meetings_api.agendas.models import ItemKind
from meetings_api.occurrences.models import OccurrenceStatus
from meetings_api.series.models import MeetingType
from safeguarding_kit.audit.recipients import RECIPIENT_EXAMPLE, AccessRecipient

CHILD_ID = "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"
ITEM_ID = "2b3c4d5e-6f70-4819-9a2b-3c4d5e6f7081"
AGENDA_ITEM_EXAMPLE: dict[str, JsonValue] = {
    "id": ITEM_ID,
    "meeting": {
        "meeting_type": "MACE",
        "series_title": "Sheffield MACE",
        "starts_at": "2026-11-25T10:00:00Z",
        "status": "held",
    },
    "kind": "child",
    "title": "Child 5b0e8c3a",
    "reasons": [{"code": "became_high", "detail": "Risk became high since the last meeting"}],
    "minutes": "Police shared concerns about older males at the school gates; plan agreed.",
    "with_other_children": False,
    "decisions": [
        {
            "id": "3c4d5e6f-7081-4a2b-9c3d-4e5f60718293",
            "text": "Escalate to strategy discussion under section 47.",
            "recorded_at": "2026-11-25T11:05:00Z",
        }
    ],
}


class ExtractMeeting(BaseModel):
    meeting_type: MeetingType
    series_title: str
    starts_at: datetime
    status: OccurrenceStatus


class ExtractReason(BaseModel):
    code: str
    detail: str


class ExtractDecision(BaseModel):
    """A decision on the item; who recorded it is not given."""

    id: uuid.UUID
    text: str
    recorded_at: datetime


class ExtractAgendaItem(BaseModel):
    id: uuid.UUID
    meeting: ExtractMeeting
    kind: ItemKind = Field(
        description="`person_of_concern` and `place_of_concern` items are police intelligence "
        "the child was linked to."
    )
    title: str
    reasons: list[ExtractReason] = Field(description="Reasons about other children are left out.")
    minutes: str | None
    with_other_children: bool = Field(description="Other children were discussed in the same item.")
    decisions: list[ExtractDecision]


class ExtractAction(BaseModel):
    id: uuid.UUID
    agenda_item_id: uuid.UUID | None
    description: str
    owner_agency: str
    owner_person_recorded: bool = Field(description="A named person owns it (the name is not given).")
    due_date: date
    status: ActionStatus
    completed_at: datetime | None
    created_at: datetime


class MeetingsSubjectAccessExtract(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": CHILD_ID,
                    "extracted_at": "2026-12-06T10:00:00Z",
                    "agenda_items": [AGENDA_ITEM_EXAMPLE],
                    "actions": [
                        {
                            "id": "4d5e6f70-8192-4a3b-9c4d-5e6f70819203",
                            "agenda_item_id": ITEM_ID,
                            "description": "Share the disruption plan for the London Road takeaway.",
                            "owner_agency": "south-yorkshire-police",
                            "owner_person_recorded": True,
                            "due_date": "2026-12-09",
                            "status": "open",
                            "completed_at": None,
                            "created_at": "2026-11-25T11:10:00Z",
                        }
                    ],
                    "access": [{**RECIPIENT_EXAMPLE, "resource_type": "agenda"}],
                }
            ]
        }
    )

    child_id: uuid.UUID
    extracted_at: datetime
    agenda_items: list[ExtractAgendaItem] = Field(description="By meeting, oldest first.")
    actions: list[ExtractAction] = Field(description="Oldest first.")
    access: list[AccessRecipient] = Field(
        description="Who read or changed the meeting records about the child, by agency and role, "
        "most recent first."
    )
