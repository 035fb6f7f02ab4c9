"""Whether a delivery is what the spec's ``webhooks`` promise a partner: its body valid
against its event type's schema (JSON Schema 2020-12, formats checked) and every
required header there; and the examples an integrator copies. The services' tests hold
real deliveries and their own examples to it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from safeguarding_kit.cloudevents import CLOUDEVENTS_JSON
from safeguarding_kit.events import delivery_body


def request_example(spec: Mapping[str, Any], operation_id: str) -> Any:
    """The example an integrator copies for the JSON body of ``operation_id``: the media
    type's own, else its schema's first."""
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                media = operation["requestBody"]["content"]["application/json"]
                if "example" in media:
                    return media["example"]
                schema = media["schema"]
                while "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                return schema["examples"][0]
    raise KeyError(f"the spec has no operation {operation_id}")


def webhook_operation(spec: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    """The spec's description of the delivery of ``event_type`` (KeyError if it has none)."""
    operation: dict[str, Any] = spec["webhooks"][event_type]["post"]
    return operation


def delivery_validator(spec: Mapping[str, Any], event_type: str) -> Draft202012Validator:
    """A validator of ``event_type`` deliveries' bodies, resolving the spec's components."""
    schema = webhook_operation(spec, event_type)["requestBody"]["content"][CLOUDEVENTS_JSON]["schema"]
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    root["components"] = spec["components"]
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def delivery_errors(spec: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> list[str]:
    """What in a delivery (``headers`` with lower-case names, the raw ``body``) the spec
    does not allow; empty when it is as documented."""
    event = json.loads(body)
    try:
        operation = webhook_operation(spec, event.get("type", ""))
    except KeyError:
        return [f"the spec has no webhook for {event.get('type')!r}"]
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in delivery_validator(spec, event["type"]).iter_errors(event)
    ]
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter.get("required") and parameter["name"] not in headers:
            errors.append(f"the header {parameter['name']} is missing")
    if headers.get("content-type") not in operation["requestBody"]["content"]:
        errors.append(f"the content type {headers.get('content-type')!r} is not the documented one")
    return errors


def webhook_example_errors(spec: Mapping[str, Any]) -> list[str]:
    """What in the spec's own example deliveries (body and headers) the spec does not
    allow; empty when each is a delivery a partner could receive."""
    errors: list[str] = []
    for event_type, item in spec.get("webhooks", {}).items():
        operation = item["post"]
        example = operation["requestBody"]["content"][CLOUDEVENTS_JSON]["example"]
        headers = {p["name"]: p["example"] for p in operation["parameters"] if p["in"] == "header"}
        headers["content-type"] = CLOUDEVENTS_JSON
        errors.extend(f"{event_type}: {e}" for e in delivery_errors(spec, headers, delivery_body(example)))
        if example.get("type") != event_type:
            errors.append(f"{event_type}: the example is of {example.get('type')!r}")
    return errors
