"""What an event says, as typed models: each event type's ``data`` is an
:class:`EventData` subclass the service builds the event from, and every delivery is
the :class:`CloudEvent` envelope around it. The same models give partners the schemas
of the deliveries (the spec's ``webhooks``), so what is documented is what is sent."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CLOUDEVENTS_JSON = "application/cloudevents+json"
# Several events in one body, a JSON array of them (CloudEvents JSON format, batch mode).
CLOUDEVENTS_BATCH_JSON = "application/cloudevents-batch+json"


class EventData(BaseModel, ABC):
    """The ``data`` of one event type: ids, types and dates, never a name. A subclass
    sets ``event_type``, says which record the event is about (:meth:`subject`), and has
    one example (``model_config["json_schema_extra"]["examples"]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    event_type: ClassVar[str]

    @abstractmethod
    def subject(self) -> str:
        """The event's CloudEvents ``subject``: the id of the child it is about (its events
        reach each receiver in order)."""

    def as_data(self) -> dict[str, Any]:
        """The JSON object stored in the outbox and sent as the event's ``data``."""
        return self.model_dump(mode="json", by_alias=True)


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, as the platform delivers it."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"] = Field(description="CloudEvents version: always `1.0`.")
    id: uuid.UUID = Field(
        description="The event's id: the same on every retry and redelivery, so a receiver can "
        "drop repeats by it."
    )
    source: str = Field(
        description="The service that wrote the event: `referral-api`, `risk-api` or `meetings-api`."
    )
    type: str = Field(description="The event type.")
    subject: str = Field(
        description="The child's opaque id (for an action about no child, the action's id); events "
        "with one subject reach each receiver in the order they happened."
    )
    time: AwareDatetime = Field(description="When the change happened (UTC).")
    datacontenttype: Literal["application/json"] = Field(description="Always `application/json`.")
    data: dict[str, Any] = Field(description="What happened: ids, types and dates, never a name.")


def event_time(event: Mapping[str, Any]) -> datetime:
    """When the event says its change happened (its ``time``, which must carry a UTC offset),
    in UTC; ``ValueError`` without one (an inbox answers 422)."""
    moment = datetime.fromisoformat(str(event["time"]))
    if moment.tzinfo is None:
        raise ValueError("the event's time has no UTC offset")
    return moment.astimezone(UTC)
