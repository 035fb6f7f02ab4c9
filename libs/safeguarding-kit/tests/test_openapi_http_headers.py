"""The headers and shared parts the kit declares in every service's spec."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from safeguarding_kit.concurrency import PreconditionRequired, VersionedJSONResponse, if_match_required
from safeguarding_kit.created import CreatedJSONResponse
from safeguarding_kit.openapi_components import share_parameters, share_responses
from safeguarding_kit.openapi_headers import add_header_components, declare_operation_headers

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
LIMIT = {"name": "limit", "in": "query", "required": False, "description": "Items per page."}
NOT_FOUND = {"description": "No such record.", "content": PROBLEM}


def _spec(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"paths": {f"/things/{i}": {"get": copy.deepcopy(op)} for i, op in enumerate(operations)}}


@pytest.mark.parametrize("if_match", [None, "*", '"2", *'])
def test_the_if_match_dependency_refuses_a_missing_or_unspecific_etag_with_428(if_match: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        asyncio.run(if_match_required(if_match))


def test_the_if_match_dependency_gives_a_specific_etag_on() -> None:
    assert asyncio.run(if_match_required('"3"')) == '"3"'


def test_a_versioned_answer_carries_its_etag_and_a_201_must_say_where_the_record_is() -> None:
    assert VersionedJSONResponse({}, version=3).headers["etag"] == '"3"'
    with pytest.raises(ValueError, match="Location"):
        VersionedJSONResponse({}, version=1, status_code=201)
    made = VersionedJSONResponse({}, version=1, status_code=201, headers={"Location": "/api/v1/things/1"})
    assert made.headers["location"] == "/api/v1/things/1"


def test_a_created_answer_is_201_with_its_location() -> None:
    made = CreatedJSONResponse({"id": "1"}, location="/api/v1/things/1")
    assert made.status_code == 201
    assert made.headers["location"] == "/api/v1/things/1"


def test_a_parameter_repeated_word_for_word_is_shared_and_a_variant_stays_inline() -> None:
    variant = {**LIMIT, "description": "At most this many."}
    spec = _spec({"parameters": [LIMIT]}, {"parameters": [LIMIT]}, {"parameters": [variant]})
    assert share_parameters(spec) == 2
    assert spec["components"]["parameters"] == {"QueryLimit": LIMIT}
    operations = [item["get"] for item in spec["paths"].values()]
    assert [op["parameters"][0] for op in operations] == [
        {"$ref": "#/components/parameters/QueryLimit"},
        {"$ref": "#/components/parameters/QueryLimit"},
        variant,
    ]


def test_an_answer_used_once_is_not_shared() -> None:
    spec = _spec({"responses": {"404": NOT_FOUND}}, {"responses": {"200": {"description": "OK"}}})
    assert share_responses(spec) == 0
    assert spec["components"]["responses"] == {}


def test_a_repeated_error_answer_is_shared_under_a_stable_name() -> None:
    spec = _spec({"responses": {"404": NOT_FOUND}}, {"responses": {"404": NOT_FOUND}})
    assert share_responses(spec) == 2
    assert spec["components"]["responses"] == {"NotFound": NOT_FOUND}


def test_operation_headers_follow_from_the_answers_and_parameters() -> None:
    spec: dict[str, Any] = {}
    add_header_components(spec)
    keyed = {
        "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
        "responses": {"201": {"description": "Made"}, "409": {"description": "In flight"}},
    }
    plain = {"responses": {"409": {"description": "Conflict"}, "429": {"description": "Slow down"}}}
    for operation in (keyed, plain):
        declare_operation_headers(spec, operation, PROBLEM)
        declare_operation_headers(spec, operation, PROBLEM)  # twice: declared once all the same
    assert set(keyed["responses"]["201"]["headers"]) == {"Location", "X-Request-ID"}
    assert set(keyed["responses"]["409"]["headers"]) == {"Retry-After", "X-Request-ID"}
    assert set(plain["responses"]["409"]["headers"]) == {"X-Request-ID"}
    assert set(plain["responses"]["429"]["headers"]) == {"Retry-After", "X-Request-ID"}
    assert plain["parameters"] == [{"$ref": "#/components/parameters/RequestId"}]


def test_an_operation_reading_if_match_declares_412_and_428() -> None:
    spec: dict[str, Any] = {}
    add_header_components(spec)
    operation: dict[str, Any] = {
        "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "responses": {"200": {"description": "OK"}},
    }
    declare_operation_headers(spec, operation, PROBLEM)
    assert {"412", "428"} <= set(operation["responses"])
    assert operation["responses"]["428"]["content"] == PROBLEM
