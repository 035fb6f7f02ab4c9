"""The event announcing a disruption action: ids and kinds only."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import ConfigDict, Field

from referral_api.disruption.models import TargetType
from safeguarding_kit.cloudevents import EventData


class DisruptionRecorded(EventData):
    """A disruption action was recorded against a person or a place of concern.

    Only the webhooks of agencies the partnership agreement grants `intelligence` hear of it
    (the agencies who may read the action), whatever children they may see. It says which
    action, of which kind, against whom: never the children it protects (read the action,
    `getDisruptionAction`, an audited read of each child), its reference or its text. Sent
    under the action's id (its `subject`)."""

    event_type: ClassVar[str] = "disruption.recorded"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "action_id": "3c2b1a09-8e7d-4c5b-a493-8271605f4e3d",
                    "kind": "child_abduction_warning_notice",
                    "target_type": "person",
                    "target_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                }
            ]
        }
    )

    action_id: uuid.UUID = Field(description="The action (`getDisruptionAction`).")
    kind: str = Field(description="The kind's slug in the partnership's vocabulary.")
    target_type: TargetType = Field(description="`person` or `place` of concern.")
    target_id: uuid.UUID = Field(description="The person's or the place's id.")

    def subject(self) -> str:
        return str(self.action_id)
