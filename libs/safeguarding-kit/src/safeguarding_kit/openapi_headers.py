"""The HTTP headers each operation reads and sends, declared in its OpenAPI spec from the
code that reads and sends them, so a typed client can reach every one of them.

- ``If-Match`` is required where a route depends on a dependency that refuses to go on
  without it (:data:`safeguarding_kit.concurrency.REQUIRED_HEADERS_ATTRIBUTE`); an
  operation that reads it answers 412 and 428.
- ``ETag`` is sent with a versioned record (a response model read from the
  ``row_version`` column, or a handler returning a ``VersionedJSONResponse``) and with
  cacheable figures, which honour ``If-None-Match`` (their 304).
- ``Location`` comes with every 201 (``safeguarding_kit.created``).
- ``Retry-After`` comes with 429, 503 and the 409 of a request whose ``Idempotency-Key``
  is still being served.
- ``X-Request-ID`` may be sent with any request and comes back with every answer.

Each is declared once under ``components`` and referenced.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo
from starlette.routing import BaseRoute

from safeguarding_kit.concurrency import IF_MATCH, REQUIRED_HEADERS_ATTRIBUTE, VersionedJSONResponse
from safeguarding_kit.created import LOCATION
from safeguarding_kit.problems import IDEMPOTENCY_KEY_HEADER

Spec = dict[str, Any]

IF_NONE_MATCH = "If-None-Match"
REQUEST_ID = "X-Request-ID"
RETRY_AFTER = "Retry-After"
ETAG = "ETag"
CONCURRENCY_COLUMN = "row_version"

PARAMETERS: dict[str, dict[str, Any]] = {
    "IfMatch": {
        "name": IF_MATCH,
        "in": "header",
        "required": True,
        "description": "The `ETag` from your last read of the record. Without it, or with `*` "
        "instead of a specific ETag, the request is refused (428) before anything is read; if "
        "the record changed since, it is refused (412) and nothing changes.",
        "schema": {"type": "string", "minLength": 1, "examples": ['"3"']},
    },
    "IfNoneMatch": {
        "name": IF_NONE_MATCH,
        "in": "header",
        "required": False,
        "description": "The `ETag` of the figures you hold: while they are unchanged the "
        "answer is 304 with no body.",
        "schema": {"type": "string", "examples": ['"4f1c2a9e0b7d4c3e8a6f5b1d2e3c4a5b"']},
    },
    "RequestId": {
        "name": REQUEST_ID,
        "in": "header",
        "required": False,
        "description": "Your id for this request (8-128 letters, digits, `.`, `_`, `:` or `-`), "
        "carried by every log line and audit record it causes and sent back in `X-Request-ID`; "
        "without one, or with one not of that form, the platform makes one.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
    },
}
HEADERS: dict[str, dict[str, Any]] = {
    ETAG: {
        "description": "The record's version (or the figures' digest) as a strong ETag: send it "
        "back in `If-Match` to update the record, or in `If-None-Match` to read figures again.",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    LOCATION: {
        "description": "Where the record this request made is: its own path, or the list it was "
        "added to when it has no path of its own (a meeting's decision).",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    RETRY_AFTER: {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    REQUEST_ID: {
        "description": "The request's id: yours if you sent a well-formed `X-Request-ID`, else "
        "the platform's. Quote it when reporting a problem.",
        "schema": {"type": "string"},
    },
}
NOT_MODIFIED = "304"
PRECONDITION_ANSWERS = {
    "412": "The record changed since the `ETag` you sent in `If-Match` was read; nothing changed. "
    "Read it again and reapply your change.",
    "428": "`If-Match` is missing or `*`: send the specific `ETag` from your last read of the record.",
}


def parameter_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _required_headers(dependant: Dependant) -> set[str]:
    """The request headers a route's dependencies refuse to go on without."""
    found = set(getattr(dependant.call, REQUIRED_HEADERS_ATTRIBUTE, ()))
    for sub in dependant.dependencies:
        found |= _required_headers(sub)
    return found


def _answers_versioned_record(route: APIRoute) -> bool:
    """Whether the route's success answer is one record with its ETag: the handler says it
    returns a ``VersionedJSONResponse``, or its response model is read from the record's
    concurrency column."""
    returns = typing.get_type_hints(route.endpoint).get("return")
    if isinstance(returns, type) and issubclass(returns, VersionedJSONResponse):
        return True
    model = route.response_model
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and any(_reads_concurrency_column(field) for field in model.model_fields.values())
    )


def _reads_concurrency_column(field: FieldInfo) -> bool:
    alias = field.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    return CONCURRENCY_COLUMN in choices


def _operations(spec: Spec, routes: Sequence[BaseRoute]) -> Iterator[tuple[APIRoute, dict[str, Any]]]:
    """Each route in the spec with its operation object."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        path_item = spec.get("paths", {}).get(context.path_format, {})
        for method in context.methods or ():
            if method.lower() in path_item:
                yield route, path_item[method.lower()]


def _set_parameter(operation: dict[str, Any], name: str, component: str) -> None:
    """The operation's header parameter ``name`` as a reference to ``component``."""
    parameters = operation.setdefault("parameters", [])
    for index, parameter in enumerate(parameters):
        if parameter == parameter_ref(component):
            return
        if parameter.get("in") == "header" and parameter.get("name") == name:
            parameters[index] = parameter_ref(component)
            return
    parameters.append(parameter_ref(component))


def _has_header_parameter(operation: dict[str, Any], name: str, shared: dict[str, Any]) -> bool:
    """Whether the operation reads the request header ``name`` (inline or by reference to
    one of the ``shared`` parameters)."""
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = shared.get(parameter["$ref"].rsplit("/", 1)[-1], {})
        if parameter.get("in") == "header" and parameter.get("name") == name:
            return True
    return False


def _add_header(response: dict[str, Any], name: str) -> None:
    response.setdefault("headers", {})[name] = header_ref(name)


def declare_route_headers(spec: Spec, routes: Sequence[BaseRoute]) -> None:
    """What only the routes know: required ``If-Match`` and the ``ETag`` of versioned records."""
    for route, operation in _operations(spec, routes):
        if IF_MATCH in _required_headers(route.dependant):
            _set_parameter(operation, IF_MATCH, "IfMatch")
        if _answers_versioned_record(route):
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2") and str(status) != "204":
                    _add_header(response, ETAG)


def declare_operation_headers(spec: Spec, operation: dict[str, Any], problem: dict[str, Any]) -> None:
    """What follows from the operation itself: its conditional-request answers, its
    ``Location``, ``Retry-After`` and ``X-Request-ID``. ``problem`` is the content of an
    error answer, for the answers added here."""
    shared = {**spec.get("components", {}).get("parameters", {}), **PARAMETERS}
    responses = operation.setdefault("responses", {})
    if _has_header_parameter(operation, IF_MATCH, shared):
        for status, description in PRECONDITION_ANSWERS.items():
            responses.setdefault(status, {"description": description, "content": problem})
    if NOT_MODIFIED in responses:
        _set_parameter(operation, IF_NONE_MATCH, "IfNoneMatch")
        for status in ("200", NOT_MODIFIED):
            if status in responses and "$ref" not in responses[status]:
                _add_header(responses[status], ETAG)
    keyed = _has_header_parameter(operation, IDEMPOTENCY_KEY_HEADER, shared)
    for status, response in responses.items():
        code = str(status)
        if "$ref" in response:
            continue  # a shared answer, declared where it is defined
        if code == "201":
            _add_header(response, LOCATION)
        if code in ("429", "503") or (code == "409" and keyed):
            _add_header(response, RETRY_AFTER)
        _add_header(response, REQUEST_ID)
    _set_parameter(operation, REQUEST_ID, "RequestId")


def add_header_components(spec: Spec) -> None:
    """The shared parameters and headers the declarations above refer to."""
    components = spec.setdefault("components", {})
    components.setdefault("parameters", {}).update(PARAMETERS)
    components.setdefault("headers", {}).update(HEADERS)
