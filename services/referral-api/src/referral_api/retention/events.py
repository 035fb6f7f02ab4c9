"""The events of legal holds: ids and record classes only, never the reason or reference."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import ConfigDict, Field, JsonValue

from referral_api.retention.models import HoldSubject
from safeguarding_kit.cloudevents import EventData
from safeguarding_kit.retention.schedule import RecordClass

_HOLD_EXAMPLE: dict[str, JsonValue] = {
    "hold_id": "3c9e1f7a-2b4d-4e6f-8a1c-5d7e9f0b2a4c",
    "subject_type": "record_class",
    "subject_id": None,
    "record_class": "meeting_minutes",
}


class _HoldEvent(EventData):
    hold_id: uuid.UUID
    subject_type: HoldSubject = Field(
        description="What is held: `child`, `person_of_concern`, `place_of_concern` or `record_class`."
    )
    subject_id: uuid.UUID | None = Field(
        description="The held child's, person's or place's id; null for a record class."
    )
    record_class: RecordClass | None = Field(
        description="The held record class (of the retention schedule); null for one record."
    )

    def subject(self) -> str:
        # A child's hold travels in the child's lane (after everything said of it); any
        # other, in the hold's own, so its release arrives after its placing.
        if self.subject_type is HoldSubject.child and self.subject_id is not None:
            return str(self.subject_id)
        return str(self.hold_id)


class LegalHoldPlaced(_HoldEvent):
    """A legal hold was placed: what it holds must not be disposed of (or de-identified)
    until it is released. For the other services only."""

    event_type: ClassVar[str] = "retention.hold_placed"
    model_config = ConfigDict(json_schema_extra={"examples": [_HOLD_EXAMPLE]})


class LegalHoldReleased(_HoldEvent):
    """A legal hold was released: what it held follows the retention schedule again
    (unless another hold keeps it). For the other services only."""

    event_type: ClassVar[str] = "retention.hold_released"
    model_config = ConfigDict(json_schema_extra={"examples": [_HOLD_EXAMPLE]})
