"""Every example in the checked-in specs is one its schema accepts, and every request body,
success answer and problem answer shows one, so an integrator can copy any of them."""

from __future__ import annotations

import copy
import ipaddress
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from devstack.example_check import (
    bodies_without_examples,
    examples_in,
    invalid_examples,
    operations,
    resolved,
)
from safeguarding_kit import outbound_urls
from safeguarding_kit.openapi_examples import request_body_example

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "openapi"
SPEC_NAMES = sorted(path.stem for path in OPENAPI_DIR.glob("*.json"))
# The answers the outside review asked to see exemplified wherever an operation gives them.
MAIN_PROBLEM_STATUSES = ("400", "401", "403", "404", "409", "422", "428", "429", "503")
# RFC 2606 and RFC 6761: names under these never resolve, so a receiver there is refused.
NEVER_RESOLVING_TLDS = {"example", "invalid", "test", "localhost", "local"}
PUBLIC_ADDRESS = ipaddress.ip_address("93.184.215.14")


def spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OPENAPI_DIR / f"{name}.json").read_text())
    return loaded


def test_every_service_spec_and_the_gateways_are_checked() -> None:
    assert {"gateway", "referral-api", "risk-api", "meetings-api"} <= set(SPEC_NAMES)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_example_is_valid_against_its_schema(name: str) -> None:
    assert invalid_examples(spec(name)) == {}


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_request_body_success_and_problem_answer_has_an_example(name: str) -> None:
    assert bodies_without_examples(spec(name)) == []


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_each_problem_example_shows_a_listed_problem_type_with_its_status(name: str) -> None:
    document = spec(name)
    listed = {entry["type"]: entry["status"] for entry in document["x-problem-types"]}
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            media = resolved(document, response)["content"]["application/problem+json"]
            for example in media.get("examples", {}).values():
                value = example["value"]
                where = f"{method.upper()} {path} {status}"
                assert listed.get(value["type"]) == value["status"] == int(status), where


def problem_examples(document: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    media = resolved(document, operation["responses"][status])["content"]["application/problem+json"]
    examples: dict[str, Any] = media["examples"]
    return examples


def test_the_main_problem_answers_are_exemplified_with_field_errors_for_422() -> None:
    document = spec("gateway")
    seen: set[str] = set()
    for _, path, operation in operations(document):
        if not path.startswith("/"):
            continue  # a partner webhook: the partner answers it
        for status in set(operation["responses"]) & set(MAIN_PROBLEM_STATUSES):
            seen.add(status)
            if status == "422":
                examples = problem_examples(document, operation, status).values()
                assert any(example["value"].get("errors") for example in examples)
        if "requestBody" in operation:
            assert "unreadable-body" in problem_examples(document, operation, "400")
    assert seen == set(MAIN_PROBLEM_STATUSES)


def test_the_gateway_shows_both_a_service_and_a_gateway_503() -> None:
    document = spec("gateway")
    operation = document["paths"]["/api/v1/referrals"]["post"]
    assert {"database-unavailable", "service-unavailable"} <= set(
        problem_examples(document, operation, "503")
    )


@pytest.mark.parametrize("name", ["referral-api", "risk-api", "meetings-api"])
def test_each_webhook_endpoint_example_could_be_registered(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked, not posted: the outbound URL policy (https, public addresses only) and the
    # events the service publishes (its spec's `webhooks`). A name under a TLD reserved
    # never to resolve is refused; any other is taken to resolve to a public address, so
    # that the test needs no network.
    monkeypatch.setattr(outbound_urls, "resolved_addresses", lambda host, port, **_: [PUBLIC_ADDRESS])
    document = spec(name)
    creates = [
        path for path, item in document["paths"].items() if path.endswith("/endpoints") and "post" in item
    ]
    assert creates
    for path in creates:
        example = request_body_example(document, "post", path)
        host = urlsplit(example["url"]).hostname or ""
        assert host.rsplit(".", 1)[-1] not in NEVER_RESOLVING_TLDS, example["url"]
        outbound_urls.check_outbound_url(example["url"], private_addresses_allowed=False)
        assert set(example["event_types"]) <= set(document["webhooks"]), path


def test_required_nullable_fields_keep_their_null_in_examples() -> None:
    # FastAPI drops nulls from the examples it writes; the kit puts them back.
    schemas = spec("gateway")["components"]["schemas"]
    assert schemas["ReferralRead"]["examples"][0]["decided_at"] is None
    assert schemas["FigureCell"]["examples"][1]["count"] is None


# The checker itself must be able to fail.


def _tiny_spec(example: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    },
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                            }
                        },
                        "422": {"content": {"application/problem+json": {"schema": {"type": "object"}}}},
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["name", "closed_at"],
                    "properties": {
                        "name": {"type": "string"},
                        "closed_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                    },
                    "examples": [example],
                }
            }
        },
    }


def test_the_check_refuses_an_example_missing_a_required_nullable_field() -> None:
    refused = invalid_examples(_tiny_spec({"name": "Shadz"}))
    assert list(refused) == ["#/components/schemas/Thing/examples/0"]
    assert "'closed_at' is a required property" in refused["#/components/schemas/Thing/examples/0"]


def test_the_check_accepts_the_null_and_follows_refs_into_media_type_examples() -> None:
    document = _tiny_spec({"name": "Shadz", "closed_at": None})
    assert invalid_examples(document) == {}
    media = document["paths"]["/things"]["post"]["responses"]["201"]["content"]["application/json"]
    media["examples"] = {"bad": {"value": {"name": 7, "closed_at": None}}}
    assert list(invalid_examples(document)) == [
        "#/paths/~1things/post/responses/201/content/application~1json/examples/bad"
    ]


def test_the_check_finds_answers_without_examples() -> None:
    document = _tiny_spec({"name": "Shadz", "closed_at": None})
    assert bodies_without_examples(document) == ["POST /things 422 problem"]
    bare = copy.deepcopy(document)
    del bare["components"]["schemas"]["Thing"]["examples"]
    assert bodies_without_examples(bare) == [
        "POST /things request body",
        "POST /things 201",
        "POST /things 422 problem",
    ]
    assert len(examples_in(document)) == 1
