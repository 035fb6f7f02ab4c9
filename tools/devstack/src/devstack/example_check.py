"""Find every example in an OpenAPI 3.1 document, check it against its schema, and find
the bodies and answers that have none. Used by tests/test_openapi_examples.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:openapi-spec"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Example:
    """One example value and the schema it must satisfy, with where it was found."""

    where: str
    schema: Any
    value: Any


def _absolute_refs(node: Any) -> Any:
    """``node`` with each local ``$ref`` pointing into the registered spec instead."""
    if isinstance(node, dict):
        return {
            key: (
                SPEC_URI + value
                if key == "$ref" and isinstance(value, str) and value.startswith("#")
                else _absolute_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    return node


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _walk(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}/{_pointer_token(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def examples_in(spec: dict[str, Any]) -> list[Example]:
    """Every example in ``spec``: a schema's ``examples`` list, and a media type's or a
    parameter's ``example`` or named ``examples`` (``externalValue`` ones cannot be checked)."""
    found: list[Example] = []
    for where, node in _walk(spec, "#"):
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("examples"), list) and "/properties/examples" not in where + "/":
            schema = {key: value for key, value in node.items() if key != "examples"}
            found.extend(
                Example(f"{where}/examples/{i}", schema, value) for i, value in enumerate(node["examples"])
            )
        if "schema" in node and isinstance(node["schema"], dict):
            if "example" in node:
                found.append(Example(f"{where}/example", node["schema"], node["example"]))
            if isinstance(node.get("examples"), dict):
                for name, example in node["examples"].items():
                    if "value" in example:
                        found.append(
                            Example(
                                f"{where}/examples/{_pointer_token(name)}", node["schema"], example["value"]
                            )
                        )
    return found


def invalid_examples(spec: dict[str, Any]) -> dict[str, str]:
    """Where each example that its schema refuses is, and the first reason why."""
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    refused: dict[str, str] = {}
    for example in examples_in(spec):
        validator = Draft202012Validator(
            _absolute_refs(example.schema),
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        error = next(iter(validator.iter_errors(example.value)), None)
        if error is not None:
            refused[example.where] = f"{error.json_path}: {error.message}"
    return refused


def resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` itself, or the component its ``$ref`` names (a schema, an answer, a
    parameter...), followed until it is no reference."""
    while "$ref" in node:
        _, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = spec["components"][kind][name.replace("~1", "/").replace("~0", "~")]
    return node


def _has_example(spec: dict[str, Any], media_type: dict[str, Any]) -> bool:
    if "example" in media_type or media_type.get("examples"):
        return True
    return bool(resolved(spec, media_type.get("schema", {})).get("examples"))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each operation of ``spec``, its partner webhooks' included, as (method, path, operation)."""
    for section in ("paths", "webhooks"):
        for path, item in spec.get(section, {}).items():
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    yield method, path, operation


def bodies_without_examples(spec: dict[str, Any]) -> list[str]:
    """Every request body, 2xx JSON answer and problem answer that shows no example."""
    missing: list[str] = []
    for method, path, operation in operations(spec):
        where = f"{method.upper()} {path}"
        body = resolved(spec, operation.get("requestBody", {})).get("content", {}).get(JSON)
        if body is not None and not _has_example(spec, body):
            missing.append(f"{where} request body")
        for status, response in operation.get("responses", {}).items():
            content = resolved(spec, response).get("content", {})
            if status.startswith("2") and JSON in content and not _has_example(spec, content[JSON]):
                missing.append(f"{where} {status}")
            if status.startswith(("4", "5")) and not content.get(PROBLEM_JSON, {}).get("examples"):
                missing.append(f"{where} {status} problem")
    return missing
