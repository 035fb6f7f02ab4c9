"""Make the generated OpenAPI spec say what the app really answers: problem+json
errors (RFC 9457) instead of FastAPI's default ``HTTPValidationError``, and who may
call each operation, read from the permission checks the operation really depends on."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from safeguarding_kit.partnership.policy import PERMISSIONS_ATTRIBUTE, RULES, Permission
from safeguarding_kit.problems import PROBLEM_JSON, FieldError, ProblemDetails

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

# Answers any operation may give whatever its handler does, declared once here.
_UNREADABLE_BODY = "The request body could not be read: it must be JSON in UTF-8."
_DATABASE_UNAVAILABLE = (
    "The service cannot reach its database just now (`Retry-After` says when to try again); "
    "a POST retried with the same `Idempotency-Key` is safe."
)
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


def install_problem_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one whose every 4xx/5xx is problem+json."""

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
                            response["description"] = (
                                "The request is not valid; `errors` names each bad field by JSON pointer."
                            )
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
