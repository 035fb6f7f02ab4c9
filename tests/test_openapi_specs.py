"""The specs in openapi/ are what the services serve; `make openapi` regenerates them."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest

from api_gateway.openapi import combine_specs
from api_gateway.routing import Upstream
from devstack.openapi_export import current_specs

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "openapi"
SPECS = current_specs()
# Operations that take no bearer token, each for a stated reason: a calendar app cannot
# send one, so a calendar feed's address carries its own secret (404 for any other).
OPEN_OPERATIONS = {"readCalendarFeed"}


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
            if operation.get("operationId") in OPEN_OPERATIONS:
                assert operation.get("security") == [], where
            else:
                assert operation.get("security") == [{"bearerAuth": []}], where
                assert "401" in operation["responses"], where
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    shared = spec["components"]["responses"]
                    declared = shared[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                    assert list(declared["content"]) == ["application/problem+json"], f"{where} {status}"


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


def test_the_gateway_spec_is_the_same_whichever_service_answers_first() -> None:
    # The running gateway fetches the services' specs concurrently, so they arrive in any
    # order; integrators must get one spec (a problem type two services share, say, must not
    # take the meaning of whichever came first).
    services = {upstream: json.loads(SPECS[upstream.value]) for upstream in Upstream}
    combined = {
        json.dumps(combine_specs({u: copy.deepcopy(services[u]) for u in order}), sort_keys=True)
        for order in itertools.permutations(Upstream)
    }
    assert combined == {json.dumps(json.loads(SPECS["gateway"]), sort_keys=True)}
