"""The events of a child's support, as partners' webhooks receive them: ids and kinds
only (the support, the child, the kind and the provider), never a name or a note."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from referral_api.support.models import EndReason, SupportKind
from safeguarding_kit.cloudevents import EventData

_EXAMPLE: JsonDict = {
    "support_id": "3c9e1d42-6b7a-4f08-9e15-2a4d6c8b0f17",
    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
    "kind": "therapeutic_post_abuse_support",
    "provider": {"service": "post-abuse-support", "agency": "safe-space-sheffield"},
}


class SupportEventProvider(BaseModel):
    """Who provides the support, as an event says it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str | None = Field(description="The slug of the partnership agreement's service, if any.")
    agency: str | None = Field(description="The agency of the agreement that provides it, if any.")


class _SupportEvent(EventData):
    support_id: uuid.UUID = Field(description="The support (`getSupport`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    kind: SupportKind
    provider: SupportEventProvider

    def subject(self) -> str:
        return str(self.child_id)


class SupportOffered(_SupportEvent):
    """Support was offered to a child (the providing agency is now linked to the child): a
    provider's system can open its own referral from it.

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "support.offered"
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class SupportStarted(_SupportEvent):
    """A child's support started (the waiting time ended).

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "support.started"
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class SupportEnded(_SupportEvent):
    """A child's support ended, or an offer ended before it started.

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "support.ended"
    model_config = ConfigDict(json_schema_extra={"examples": [{**_EXAMPLE, "end_reason": "goals_met"}]})

    end_reason: EndReason = Field(description="Why it ended.")
