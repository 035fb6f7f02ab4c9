"""Make the generated OpenAPI spec say what the app really answers: problem+json
errors (RFC 9457) instead of FastAPI's default ``HTTPValidationError``, who may call
each operation, read from the permission checks the operation really depends on, and
what the service sends to partners' webhooks (``webhooks``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from safeguarding_kit.idempotency import NATURALLY_IDEMPOTENT, REPEAT_MAKES_ANOTHER
from safeguarding_kit.openapi_contract import complete_contract
from safeguarding_kit.openapi_examples import add_examples_and_problem_types
from safeguarding_kit.partnership.policy import PERMISSIONS_ATTRIBUTE, RULES, Permission
from safeguarding_kit.problems import IDEMPOTENCY_KEY_HEADER, PROBLEM_JSON, FieldError, ProblemDetails
from safeguarding_kit.webhooks.published import PartnerEvents
from safeguarding_kit.webhooks.spec import partner_webhooks

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

# Answers any operation may give whatever its handler does, declared once here.
_UNREADABLE_BODY = "The request body could not be read: it must be JSON in UTF-8."
_DATABASE_UNAVAILABLE = (
    "The service cannot reach its database just now (`Retry-After` says when to try again)."
)
_SAFE_RETRY_WITH_KEY = (
    " Retried with the same `Idempotency-Key`, the request is made once: a retry after it "
    "gets the first answer."
)
_KEY_IN_FLIGHT = (
    "A request with this `Idempotency-Key` is still being served "
    "(`idempotent-request-in-flight`): retry after `Retry-After` seconds with the same key to get its answer."
)
_KEY_REUSED = (
    " Also when the `Idempotency-Key` was first used with another request (`idempotency-key-reused`): "
    "nothing was changed."
)
_RETRY_AFTER = {"description": "Seconds to wait.", "schema": {"type": "integer"}}
_INVALID_REQUEST = "The request is not valid; `errors` names each bad field by JSON pointer."
_NO_SUCH_PATH = (
    "There is no such resource, or the caller may not see it; also the answer when a path "
    "parameter holds an encoded `/` and so names no path at all."
)


def _declare_common_answers(operation: dict[str, Any]) -> None:
    """Declare what the framework answers whatever the handler: 400 for a body that is
    not UTF-8 JSON, 404 for a path that names nothing, 503 while the database is down."""
    responses = operation.setdefault("responses", {})
    responses.setdefault("503", {"description": _DATABASE_UNAVAILABLE})
    if "requestBody" in operation:
        responses.setdefault("400", {"description": _UNREADABLE_BODY})
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        responses.setdefault("404", {"description": _NO_SUCH_PATH})


def _honours_idempotency_key(operation: dict[str, Any]) -> bool:
    return any(
        parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_KEY_HEADER
        for parameter in operation.get("parameters", [])
    )


def _declare_retry_safety(operation: dict[str, Any]) -> None:
    """Say how a retry is safe, and only where it is: an operation declaring
    ``Idempotency-Key`` replays its first answer (409 while it runs, 422 for the key with
    another body); one marked ``x-naturally-idempotent`` says why a repeat changes nothing,
    one marked ``x-repeat-makes-another`` what a repeat makes."""
    responses = operation.setdefault("responses", {})
    unavailable = responses["503"]
    if _honours_idempotency_key(operation):
        unavailable["description"] = _DATABASE_UNAVAILABLE + _SAFE_RETRY_WITH_KEY
        conflict = responses.setdefault("409", {"description": "Conflict"})
        known = conflict.get("description", "")
        conflict["description"] = (
            _KEY_IN_FLIGHT if known in ("", "Conflict") else f"{known} Or: {_KEY_IN_FLIGHT}"
        )
        conflict["headers"] = {"Retry-After": _RETRY_AFTER}
        conflict["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
        invalid = responses.setdefault("422", {"content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}})
        invalid["description"] = invalid.get("description", _INVALID_REQUEST) + _KEY_REUSED
    elif NATURALLY_IDEMPOTENT in operation:
        unavailable["description"] = (
            f"{_DATABASE_UNAVAILABLE} A retry is safe without a key: {operation[NATURALLY_IDEMPOTENT]}"
        )
    elif REPEAT_MAKES_ANOTHER in operation:
        unavailable["description"] = f"{_DATABASE_UNAVAILABLE} {operation[REPEAT_MAKES_ANOTHER]}"


def _required_permissions(dependant: Dependant) -> list[Permission]:
    """The permissions a route's dependencies check (any one of them lets a caller in)."""
    found: list[Permission] = list(getattr(dependant.call, PERMISSIONS_ATTRIBUTE, ()))
    for sub in dependant.dependencies:
        found.extend(p for p in _required_permissions(sub) if p not in found)
    return found


def _declare_who_may_call(operation: dict[str, Any], permissions: list[Permission]) -> None:
    """Say in words and as ``x-required-permissions`` which role and capacity an operation needs."""
    declared = []
    for permission in permissions:
        rule = RULES[permission]
        declared.append(
            {
                "permission": permission.value,
                "roles": sorted(r.value for r in rule.roles),
                "capacity": rule.capacity.value if rule.capacity is not None else None,
            }
        )
    operation["x-required-permissions"] = declared
    who = " Or: ".join(RULES[p].describe() for p in permissions)
    text = operation.get("description", "")
    operation["description"] = (text + "\n\n" if text else "") + f"**Who may call.** {who}"


def _problem_schemas() -> dict[str, Any]:
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    defs["ProblemDetails"] = schema
    defs.setdefault("FieldError", FieldError.model_json_schema())
    return dict(defs)


def _add_partner_webhooks(spec: dict[str, Any], partner_events: PartnerEvents) -> None:
    """The OAS 3.1 ``webhooks`` of what the service publishes to partners, and their schemas."""
    webhooks, webhook_schemas = partner_webhooks(partner_events)
    schemas = spec["components"]["schemas"]
    for name, schema in webhook_schemas.items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are named {name}: rename one of the models")
    spec["webhooks"] = webhooks


def install_problem_openapi(app: FastAPI, partner_events: PartnerEvents | None = None) -> None:
    """Replace ``app.openapi`` with one whose every 4xx/5xx is problem+json, and which
    describes the deliveries of ``partner_events`` under ``webhooks``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas.update(_problem_schemas())
        # Routers included in the app are wrapped; their route contexts carry the full path.
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, APIRoute) and route.include_in_schema:
                permissions = _required_permissions(route.dependant)
                if not permissions:
                    continue
                path_item = spec.get("paths", {}).get(route.path_format, {})
                for method in route.methods or ():
                    if method.lower() in path_item:
                        _declare_who_may_call(path_item[method.lower()], permissions)
        for path_item in spec.get("paths", {}).values():
            for operation in path_item.values():
                _declare_common_answers(operation)
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith(("4", "5")):
                        response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
                        if str(status) == "422":
                            response["description"] = _INVALID_REQUEST
                _declare_retry_safety(operation)
        add_examples_and_problem_types(spec, app.routes)
        if partner_events is not None:
            _add_partner_webhooks(spec, partner_events)
        complete_contract(spec, app.routes)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
