"""The events of a child's record: ids only, never a name or an identifier."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import AwareDatetime, ConfigDict, Field

from referral_api.children.models import LinkReason
from safeguarding_kit.cloudevents import EventData
from safeguarding_kit.retention.schedule import RecordClass


class ChildMerged(EventData):
    """Two records of one child were merged into one.

    Sent under the duplicate's id (its `subject`), so it arrives after everything said of
    the duplicate; replace the duplicate's id with `child_id` wherever you keep it. A
    partner hears of it when its agency may see the surviving record."""

    event_type: ClassVar[str] = "child.merged"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "merged_child_id": "2e6d9b0a-5c4f-4b3e-8d2c-1a0f9e8d7c6b",
                }
            ]
        }
    )

    child_id: uuid.UUID = Field(description="The surviving record's id.")
    merged_child_id: uuid.UUID = Field(description="The duplicate's id, merged into `child_id`.")

    def subject(self) -> str:
        return str(self.merged_child_id)


class ChildAgencyLinked(EventData):
    """An agency was linked to a child (by a referral it sent, a case allocated to it,
    registration, or support it provides): its case workers may now read the case, here and
    in the risk service.
    For the other services only."""

    event_type: ClassVar[str] = "child.agency_linked"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "agency": "sheffield-schools",
                    "reason": "referral",
                }
            ]
        }
    )

    child_id: uuid.UUID
    agency: str
    reason: LinkReason

    def subject(self) -> str:
        return str(self.child_id)


class ChildDisposed(EventData):
    """A child's record was disposed of under the retention schedule: everything the
    referral service held about the child is gone, a de-identified count of it kept for
    the figures. Remove or de-identify what you hold about `child_id`. Sent after
    everything else said of the child. For the other services only."""

    event_type: ClassVar[str] = "child.disposed"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "record_classes": ["no_further_action_referral", "missing_episode"],
                    "disposed_at": "2026-12-07T02:00:00Z",
                }
            ]
        }
    )

    child_id: uuid.UUID
    record_classes: list[RecordClass] = Field(
        description="The record classes of the retention schedule the child's record fell under."
    )
    disposed_at: AwareDatetime = Field(description="When the record was disposed of.")

    def subject(self) -> str:
        return str(self.child_id)
