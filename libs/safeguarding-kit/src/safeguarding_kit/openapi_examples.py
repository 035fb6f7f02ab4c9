"""Examples in the generated spec: each schema's examples exactly as the code wrote them,
an example of every problem answer made from the kit's Problem classes, and the list of
problem types the process can answer (``x-problem-types``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi._compat import get_definitions, get_flat_models_from_fields, get_model_name_map
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_fields_from_routes
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from safeguarding_kit.concurrency import PreconditionRequired, StaleWrite
from safeguarding_kit.problem_types import (
    KIT_PACKAGE,
    meaning,
    problem_classes,
    problem_type_urn,
    problem_types,
)
from safeguarding_kit.problems import (
    DATABASE_UNAVAILABLE_DETAIL,
    PROBLEM_JSON,
    UNREADABLE_BODY_DETAIL,
    Conflict,
    DatabaseUnavailable,
    FieldError,
    Forbidden,
    InvalidCursor,
    NotFound,
    Problem,
    ProblemDetails,
    Unauthenticated,
    UnreadableBody,
    ValidationFailed,
)

Spec = dict[str, Any]
EXAMPLE_REQUEST_ID = "4b5a1f9e-4f43-4a43-9f7b-1a5f8f0d2c11"

# What each kit problem says in its example; a service's own problems say what they mean.
_EXAMPLE_DETAILS: dict[type[Problem], str] = {
    UnreadableBody: UNREADABLE_BODY_DETAIL,
    InvalidCursor: "The cursor is not one this API issued; start again without it.",
    Unauthenticated: "The token has expired.",
    Forbidden: "Your role or your agency's capacity in the partnership agreement does not allow this.",
    NotFound: "There is no such record, or you may not see it.",
    Conflict: "The record's current state does not allow this.",
    StaleWrite: 'The record changed since you read it (its ETag is now "4"); read it again.',
    PreconditionRequired: "Send If-Match with the ETag of the record as you last read it.",
    DatabaseUnavailable: DATABASE_UNAVAILABLE_DETAIL,
}
_KIT_EXAMPLES_BY_STATUS: dict[int, tuple[type[Problem], ...]] = {
    401: (Unauthenticated,),
    403: (Forbidden,),
    404: (NotFound,),
    409: (Conflict,),
    412: (StaleWrite,),
    422: (ValidationFailed,),
    428: (PreconditionRequired,),
    503: (DatabaseUnavailable,),
}


def restore_example_nulls(spec: Spec, routes: Sequence[BaseRoute]) -> None:
    """Put back the nulls FastAPI drops from every example it writes into a spec
    (fastapi/fastapi#5559), so that an example of a required nullable field keeps it: each
    component schema's ``examples``, at every depth, become what pydantic generated."""
    fields = get_fields_from_routes(routes)
    name_map = get_model_name_map(get_flat_models_from_fields(fields, known_models=set()))
    _, definitions = get_definitions(fields=fields, model_name_map=name_map)
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if name in definitions:
            _copy_examples(definitions[name], schema)


def _copy_examples(source: Any, target: Any) -> None:
    if isinstance(source, dict) and isinstance(target, dict):
        if "examples" in source and "examples" in target:
            target["examples"] = jsonable_encoder(source["examples"])
        for key, value in source.items():
            if key != "examples" and key in target:
                _copy_examples(value, target[key])
    elif isinstance(source, list) and isinstance(target, list) and len(source) == len(target):
        for source_item, target_item in zip(source, target, strict=True):
            _copy_examples(source_item, target_item)


def _body_schema(spec: Spec, operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = (
        operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    )
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _validation_errors(spec: Spec, operation: dict[str, Any]) -> list[FieldError]:
    """One plausible field error: the body's first required field (else its first field),
    or without a body the first parameter."""
    body = _body_schema(spec, operation)
    if body.get("required"):
        return [FieldError(detail="Field required", pointer=f"#/{body['required'][0]}")]
    if body.get("properties"):
        return [
            FieldError(detail="Input should be a valid value", pointer=f"#/{next(iter(body['properties']))}")
        ]
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in {"query", "path", "header"}:
            return [
                FieldError(
                    detail="Input should be a valid value",
                    parameter=parameter["name"],
                    location=parameter["in"],
                )
            ]
    return []


def problem_example(
    problem: type[Problem], detail: str, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    """An OpenAPI Example Object of ``problem``. It names no ``instance``, so that the same
    answer of many operations stays one shared component."""
    body = ProblemDetails(
        type=problem_type_urn(problem),
        title=problem.title,
        status=problem.status,
        detail=detail,
        request_id=EXAMPLE_REQUEST_ID,
        errors=errors or None,
    )
    return {"summary": problem.title, "value": body.model_dump(exclude_none=True)}


def _problems_for(
    status: int, operation: dict[str, Any], own: Sequence[type[Problem]]
) -> list[type[Problem]]:
    if status == 400:
        parameters = {p.get("name") for p in operation.get("parameters", [])}
        chosen = [UnreadableBody] if "requestBody" in operation else []
        return chosen + ([InvalidCursor] if "cursor" in parameters else [])
    if status in _KIT_EXAMPLES_BY_STATUS:
        return list(_KIT_EXAMPLES_BY_STATUS[status])
    return [problem for problem in own if problem.status == status][:1]


def add_problem_examples(spec: Spec, own: Sequence[type[Problem]]) -> None:
    """Give every problem answer of ``spec`` named examples, one per problem it shows; a
    status the kit has no problem for shows the first of ``own`` (the process's problems)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(PROBLEM_JSON)
                if media is None or not str(status).isdigit():
                    continue
                examples = media.setdefault("examples", {})
                for problem in _problems_for(int(status), operation, own):
                    errors = _validation_errors(spec, operation) if problem is ValidationFailed else []
                    example = problem_example(problem, _example_detail(problem, errors), errors)
                    examples.setdefault(problem.slug, example)
                if not examples:
                    del media["examples"]


def _example_detail(problem: type[Problem], errors: list[FieldError]) -> str:
    if errors:
        noun = "field is" if len(errors) == 1 else "fields are"
        return f"{len(errors)} {noun} not valid; see errors."
    return _EXAMPLE_DETAILS.get(problem) or meaning(problem)


def route_packages(routes: Sequence[BaseRoute]) -> set[str]:
    """The top-level packages whose handlers serve ``routes``, and the kit."""
    packages = {KIT_PACKAGE}
    for route in iter_route_contexts(routes):
        if isinstance(route.original_route, APIRoute):
            packages.add(route.original_route.endpoint.__module__.split(".")[0])
    return packages


def add_examples_and_problem_types(spec: Spec, routes: Sequence[BaseRoute]) -> None:
    """All of the above, for a spec FastAPI generated from ``routes``."""
    restore_example_nulls(spec, routes)
    own = problem_classes(route_packages(routes))
    add_problem_examples(spec, own)
    spec["x-problem-types"] = problem_types(own)


def request_body_example(spec: Spec, method: str, path: str) -> Any:
    """The first example the spec shows for the JSON body of ``method`` ``path``: the
    media type's own, else its schema's (what an integrator would copy)."""
    media = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        return next(iter(media["examples"].values()))["value"]
    schema = media["schema"]
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema["examples"][0]
