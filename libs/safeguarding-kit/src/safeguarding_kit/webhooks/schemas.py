"""Request and response bodies for partner webhook endpoints and their deliveries."""

from __future__ import annotations

import types
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, JsonValue
from pydantic.config import JsonDict

from safeguarding_kit.events import DEAD, DELIVERED, PENDING
from safeguarding_kit.pagination import page_examples

# A receiver an integrator can register as it is: https to a host with public addresses
# only, as the outbound URL policy demands (a reserved name such as `.example` never
# resolves, so it is refused). example.com is reserved for documentation (RFC 2606) and
# serves no receiver: copied deliveries are refused there and end dead, harmlessly.
EXAMPLE_WEBHOOK_URL = "https://example.com/hooks/leeds-police/safeguarding"


class WebhookEndpointCreate(BaseModel):
    """A new endpoint; each service has its own subclass (:func:`endpoint_create_model`)."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(
        description="Where deliveries are POSTed: https, to a host whose every address is public "
        "(no loopback, private, link-local or metadata address), checked now and before each delivery."
    )
    event_types: list[str] = Field(min_length=1, max_length=50, description="The event types to receive.")
    secret: str | None = Field(
        None,
        min_length=32,
        max_length=200,
        description="Signing secret; leave out to have one generated (shown once, in the answer).",
    )


ENDPOINT_EXAMPLE: JsonDict = {
    "id": "0b7e3f4e-8a54-4f0c-9d6d-3a4a1c1e9b10",
    "agency": "leeds-police",
    "url": EXAMPLE_WEBHOOK_URL,
    "event_types": ["referral.received"],
    "active": True,
    "created_by": "admin@leeds-police",
    "created_at": "2026-11-25T09:30:00Z",
}


# The signing secret is shown once, in the answer to the endpoint's creation (invented here).
CREATED_ENDPOINT_EXAMPLE: JsonDict = {
    **ENDPOINT_EXAMPLE,
    "secret": "Jc0q3H6v-9sWmB2xYt7LrPz4KdN8aQe1UfG5hVo_ZiE",
}


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ENDPOINT_EXAMPLE]})

    id: uuid.UUID
    agency: str
    url: str
    event_types: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    model_config = ConfigDict(json_schema_extra={"examples": [CREATED_ENDPOINT_EXAMPLE]})

    secret: str = Field(description="Verify each delivery's `webhook-signature` with it. Not shown again.")


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 812,
                    "event_id": "4d1c1f0e-1e1b-4a53-8c89-2f0d5b1b9e77",
                    "event_type": "referral.received",
                    "subject": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "status": "dead",
                    "attempts": 8,
                    "last_error": "HTTP 500",
                    "next_attempt_at": "2026-11-25T09:34:15Z",
                    "delivered_at": None,
                    "occurred_at": "2026-11-25T09:30:00Z",
                }
            ]
        }
    )

    id: int
    event_id: uuid.UUID
    event_type: str
    subject: str = Field(description="The child's opaque id.")
    status: str = Field(description=f"{PENDING}, {DELIVERED} or {DEAD}.")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    occurred_at: datetime


class WebhookDeliveryPage(BaseModel):
    model_config = ConfigDict(json_schema_extra=page_examples)

    items: list[WebhookDeliveryRead]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older deliveries.")


def endpoint_create_model(published: Sequence[str], service_title: str) -> type[WebhookEndpointCreate]:
    """The create body of one service's endpoints, named ``<Title>WebhookEndpointCreate``:
    its schema lists the event types the service publishes, and its example (two of them
    and :data:`EXAMPLE_WEBHOOK_URL`) is one the service accepts."""
    allowed = sorted(published)
    example: JsonDict = {"url": EXAMPLE_WEBHOOK_URL, "event_types": list(published[:2])}

    def describe(schema: JsonDict) -> None:
        properties = cast(JsonDict, schema["properties"])
        event_types = cast(JsonDict, properties["event_types"])
        event_types["items"] = {"type": "string", "enum": cast(list[JsonValue], allowed)}
        schema["examples"] = [example]

    name = f"{service_title}WebhookEndpointCreate"
    namespace = {
        "__module__": __name__,
        "__doc__": f"A new webhook endpoint for the {service_title.lower()} service's events.",
        "model_config": ConfigDict(extra="forbid", title=name, json_schema_extra=describe),
    }
    return types.new_class(name, (WebhookEndpointCreate,), {}, lambda ns: ns.update(namespace))
