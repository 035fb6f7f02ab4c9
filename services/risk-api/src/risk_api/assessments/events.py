"""The events an assessment writes: what the meetings service and partners' webhooks
receive, ids and levels only (never the answers or the notes)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import ConfigDict, Field

from risk_api.vocabularies import RiskLevel
from safeguarding_kit.cloudevents import EventData

_CHILD = "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11"


class RiskAssessed(EventData):
    """A child's risk was assessed.

    A partner hears of it when its agency may read the child's risk."""

    event_type: ClassVar[str] = "risk.assessed"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assessment_id": "b2c3d4e5-f607-4819-a2b3-c4d5e6f70819",
                    "child_id": _CHILD,
                    "level": "medium",
                }
            ]
        }
    )

    assessment_id: uuid.UUID = Field(description="The assessment (`getAssessment`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    level: RiskLevel = Field(description="The assessment's final level (after any override).")

    def subject(self) -> str:
        return str(self.child_id)


class RiskLevelChanged(EventData):
    """A child's current risk level changed.

    Sent after the assessment that changed it; a rise to `high` puts the child on the next
    MACE agenda. A partner hears of it when its agency may read the child's risk."""

    event_type: ClassVar[str] = "risk.level_changed"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"child_id": _CHILD, "from": "medium", "to": "high"}]}
    )

    child_id: uuid.UUID = Field(description="The child's opaque id.")
    from_level: RiskLevel | None = Field(
        alias="from", description="The level before; null for the child's first assessment."
    )
    to_level: RiskLevel = Field(alias="to", description="The level now.")

    def subject(self) -> str:
        return str(self.child_id)
