"""The spec's OAS 3.1 ``webhooks``: one entry per event type a service publishes to
partners, each with the delivery's schema (the :class:`CloudEvent` envelope around the
event's own :class:`EventData` model, the models the service builds the event from),
the signature headers with how to verify them, and an example delivery."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import Field, create_model

from safeguarding_kit.cloudevents import CLOUDEVENTS_JSON, CloudEvent, EventData
from safeguarding_kit.events import (
    MAX_ATTEMPTS,
    SIGNATURE_TOLERANCE_SECONDS,
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    RelayPolicy,
    delivery_body,
    sign,
)
from safeguarding_kit.webhooks.published import PartnerEvents

SCHEMA_REF = "#/components/schemas/{model}"

# The example delivery: invented ids, a fixed time, signed with an invented secret.
EXAMPLE_EVENT_ID = uuid.UUID("5b0f3c2e-7d4a-4e8b-9c61-2a7e4f1d0c93")
EXAMPLE_ENDPOINT_ID = uuid.UUID("0b7e3f4e-8a54-4f0c-9d6d-3a4a1c1e9b10")
EXAMPLE_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
EXAMPLE_SECRET = "whsec_" + "Q2hhbmdlTWVJbkFSZWFsRW5kcG9pbnRTZWNyZXQ"

_POLICY = RelayPolicy()
VERIFYING = f"""\
**Verifying a delivery.** Each delivery is signed with the `secret` your endpoint was given \
when it was registered. Before acting on one:

1. Take the request body exactly as received (bytes); do not parse and re-serialise it.
2. Compute HMAC-SHA256 keyed with the secret's UTF-8 bytes exactly as shown, `whsec_` \
included (the key is not base64-decoded, unlike some Standard Webhooks libraries), over \
`<{WEBHOOK_ID}>.<{WEBHOOK_TIMESTAMP}>.<body>`; base64-encode it (standard alphabet, padded) \
and put `v1,` in front.
3. Compare it, in constant time, with each space-separated value of `{WEBHOOK_SIGNATURE}`; \
one match is enough.
4. Refuse a `{WEBHOOK_TIMESTAMP}` more than {SIGNATURE_TOLERANCE_SECONDS} seconds from your \
clock (a replay).
5. Drop a repeat by `{WEBHOOK_ID}` (or the event's `id`): a delivery is retried until you \
answer 2xx, and your admin may ask for it again.

**Retries.** Anything but a 2xx, or no answer within a few seconds, is tried again after \
{_POLICY.backoff_base_seconds:g} s, then twice as long each time (at most \
{_POLICY.backoff_cap_seconds:g} s), {MAX_ATTEMPTS} tries in all by default; then the delivery \
is dead, listed in your endpoint's deliveries, and can be sent again. A child's events \
reach you in the order they happened: a later one waits while an earlier one is retried."""

_HEADERS: tuple[tuple[str, str], ...] = (
    (
        WEBHOOK_ID,
        "This delivery's id: `<event id>:webhook-<endpoint id>`, the same on every retry and "
        "redelivery. Part of what is signed; drop a delivery whose id you have seen.",
    ),
    (
        WEBHOOK_TIMESTAMP,
        "When this attempt was signed, in whole seconds since 1970-01-01T00:00:00Z. Part of what "
        f"is signed; refuse one more than {SIGNATURE_TOLERANCE_SECONDS} seconds from your clock.",
    ),
    (
        WEBHOOK_SIGNATURE,
        "`v1,` and the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with "
        "your endpoint's secret (its UTF-8 bytes, `whsec_` included); several may be sent, "
        "separated by spaces, and one match is enough.",
    ),
)


def _title(event_type: str) -> str:
    """``missing_episode.found`` -> ``MissingEpisodeFound``."""
    return "".join(word.capitalize() for word in re.split(r"[._]", event_type))


def _envelope(data_model: type[EventData]) -> type[CloudEvent]:
    """The delivery of ``data_model``'s event type: the envelope with its type and data."""
    event_type = data_model.event_type
    return create_model(
        f"{_title(event_type)}Event",
        __base__=CloudEvent,
        __doc__=f"A `{event_type}` delivery: a CloudEvents 1.0 event in structured JSON mode.",
        type=(str, Field(description="The event type.", json_schema_extra={"const": event_type})),
        data=(data_model, Field(description="What happened: ids, types and dates, never a name.")),
    )


def example_data(data_model: type[EventData]) -> EventData:
    """The event's example data, checked against its own model."""
    extra = cast(dict[str, Any], data_model.model_config.get("json_schema_extra") or {})
    examples = extra.get("examples") or []
    if not examples:
        raise ValueError(f"{data_model.__name__} has no example")
    return data_model.model_validate(examples[0])


def example_delivery(data_model: type[EventData], source: str) -> dict[str, Any]:
    """A whole delivery of the event type, as the relay would send it."""
    data = example_data(data_model)
    return CloudEvent(
        specversion="1.0",
        id=EXAMPLE_EVENT_ID,
        source=source,
        type=data.event_type,
        subject=data.subject(),
        time=EXAMPLE_TIME,
        datacontenttype="application/json",
        data=data.as_data(),
    ).model_dump(mode="json")


def _parameters(delivery: dict[str, Any]) -> list[dict[str, Any]]:
    message_id = f"{delivery['id']}:webhook-{EXAMPLE_ENDPOINT_ID}"
    stamp = int(EXAMPLE_TIME.timestamp())
    examples = {
        WEBHOOK_ID: message_id,
        WEBHOOK_TIMESTAMP: str(stamp),
        WEBHOOK_SIGNATURE: sign(EXAMPLE_SECRET, message_id, stamp, delivery_body(delivery)),
    }
    return [
        {
            "name": name,
            "in": "header",
            "required": True,
            "description": description,
            "schema": {"type": "string"},
            "example": examples[name],
        }
        for name, description in _HEADERS
    ]


def _operation(data_model: type[EventData], source: str, schema_name: str) -> dict[str, Any]:
    event_type = data_model.event_type
    summary, _, details = (data_model.__doc__ or event_type).strip().partition("\n\n")
    delivery = example_delivery(data_model, source)
    return {
        "operationId": _title(event_type)[0].lower() + _title(event_type)[1:] + "Webhook",
        "summary": " ".join(summary.split()),
        "description": (" ".join(details.split()) + "\n\n" if details else "") + VERIFYING,
        "tags": ["webhooks"],
        # Not called with a bearer token: the signature headers say who sent it.
        "security": [],
        "parameters": _parameters(delivery),
        "requestBody": {
            "required": True,
            "description": f"The `{event_type}` event, POSTed to your endpoint's URL.",
            "content": {
                CLOUDEVENTS_JSON: {
                    "schema": {"$ref": SCHEMA_REF.format(model=schema_name)},
                    "example": delivery,
                }
            },
        },
        "responses": {
            "2XX": {"description": "Received: the delivery is done (the answer's body is ignored)."},
            "default": {"description": "Not received: the delivery is tried again later (see Retries)."},
        },
    }


def partner_webhooks(partner_events: PartnerEvents) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``webhooks`` object (one ``post`` per event type) and the component schemas it
    refers to (each event's envelope and data, and what they use)."""
    source = f"{partner_events.service.name}-api"
    webhooks: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for data_model in partner_events.events:
        envelope = _envelope(data_model)
        schema = envelope.model_json_schema(ref_template=SCHEMA_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[envelope.__name__] = schema
        webhooks[data_model.event_type] = {"post": _operation(data_model, source, envelope.__name__)}
    return webhooks, schemas
