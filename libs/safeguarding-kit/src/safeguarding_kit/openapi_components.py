"""Parameters and answers that many operations repeat word for word, written once under
``components`` and referenced with ``$ref`` (a generated client gets one type for each,
and a reader one place to look).

For each parameter (by where it is and its name) and each error or 304 answer (by status),
the variant most operations use is shared once two or more use it; a variant of its own
(a 409 saying which state forbids the operation, say) stays where it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

Spec = dict[str, Any]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

# Stable names (Python's HTTPStatus phrases change between versions).
RESPONSE_NAMES = {
    "304": "NotModified",
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "412": "PreconditionFailed",
    "413": "ContentTooLarge",
    "422": "InvalidRequest",
    "428": "PreconditionRequired",
    "429": "TooManyRequests",
    "431": "RequestHeaderFieldsTooLarge",
    "500": "InternalError",
    "502": "BadGateway",
    "503": "ServiceUnavailable",
    "504": "GatewayTimeout",
}


def operations(spec: Spec) -> Iterator[dict[str, Any]]:
    """Every operation object under ``paths``."""
    for path_item in spec.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                yield operation


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _shared(
    found: list[tuple[str, dict[str, Any]]], existing: dict[str, Any]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """For each name, the most used variant (used twice or more), keyed by its canonical
    text; a name already taken by something else under ``components`` is left alone."""
    uses = Counter((name, _canonical(value)) for name, value in found)
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    for (name, text), count in uses.most_common():
        if count < 2 or name in {n for n, _ in chosen.values()}:
            continue
        value = json.loads(text)
        if name in existing and existing[name] != value:
            continue
        chosen[text] = (name, value)
    return chosen


def share_parameters(spec: Spec) -> int:
    """Move repeated inline parameters under ``components/parameters``; how many were replaced."""
    existing = spec.setdefault("components", {}).setdefault("parameters", {})
    found = [
        (_pascal(f"{p['in']} {p['name']}"), p)
        for operation in operations(spec)
        for p in operation.get("parameters", [])
        if "$ref" not in p
    ]
    chosen = _shared(found, existing)
    replaced = 0
    for operation in operations(spec):
        parameters = operation.get("parameters", [])
        for index, parameter in enumerate(parameters):
            hit = chosen.get(_canonical(parameter)) if "$ref" not in parameter else None
            if hit is not None:
                existing[hit[0]] = hit[1]
                parameters[index] = {"$ref": f"#/components/parameters/{hit[0]}"}
                replaced += 1
    spec["components"]["parameters"] = dict(sorted(existing.items()))
    return replaced


def share_responses(spec: Spec) -> int:
    """Move repeated inline error (and 304) answers under ``components/responses``; how many
    were replaced."""
    existing = spec.setdefault("components", {}).setdefault("responses", {})
    found = [
        (RESPONSE_NAMES.get(str(status), f"Status{status}"), response)
        for operation in operations(spec)
        for status, response in operation.get("responses", {}).items()
        if str(status)[0] in "345" and "$ref" not in response
    ]
    chosen = _shared(found, existing)
    replaced = 0
    for operation in operations(spec):
        responses = operation.get("responses", {})
        for status, response in responses.items():
            hit = chosen.get(_canonical(response)) if "$ref" not in response else None
            if hit is not None:
                existing[hit[0]] = hit[1]
                responses[status] = {"$ref": f"#/components/responses/{hit[0]}"}
                replaced += 1
    spec["components"]["responses"] = dict(sorted(existing.items()))
    return replaced


def share_repeated_parts(spec: Spec) -> None:
    """Both of the above."""
    share_parameters(spec)
    share_responses(spec)
