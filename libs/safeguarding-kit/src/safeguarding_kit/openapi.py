"""Make the generated OpenAPI spec say what the app really answers: problem+json
errors (RFC 9457) instead of FastAPI's default ``HTTPValidationError``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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
