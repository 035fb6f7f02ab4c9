"""The specs in openapi/ are what the services serve; `make openapi` regenerates them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.openapi_export import current_specs

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "openapi"
SPECS = current_specs()


@pytest.mark.parametrize("service", sorted(SPECS))
def test_checked_in_spec_matches_what_the_service_serves(service: str) -> None:
    checked_in = (OPENAPI_DIR / f"{service}.json").read_text()
    assert checked_in == SPECS[service], f"openapi/{service}.json is stale: run `make openapi`"


@pytest.mark.parametrize("service", sorted(SPECS))
def test_every_operation_is_named_tagged_secured_and_documents_its_errors(service: str) -> None:
    spec = json.loads(SPECS[service])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("operationId", "").isidentifier(), where
            assert operation.get("tags"), where
            assert operation.get("security") == [{"bearerAuth": []}], where
            assert "401" in operation["responses"], where
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], f"{where} {status}"


@pytest.mark.parametrize("service", sorted(SPECS))
def test_every_request_and_response_body_has_an_example(service: str) -> None:
    spec = json.loads(SPECS[service])
    schemas = spec["components"]["schemas"]

    def has_example(schema: dict) -> bool:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("examples") or schema.get("example"):
            return True
        if schema.get("type") == "array":
            return has_example(schema["items"])
        # A page of items is exemplified by its item schema.
        items = schema.get("properties", {}).get("items", {}).get("items")
        return bool(items) and has_example(items)

    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                assert has_example(body["schema"]), f"{method.upper()} {path} request"
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if status.startswith("2") and content:
                    assert has_example(content["schema"]), f"{method.upper()} {path} {status}"
