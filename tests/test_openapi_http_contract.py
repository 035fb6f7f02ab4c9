"""The headers the specs declare are the ones the services read and send.

Each operation a spec says needs `If-Match` is called through its service's app with a
caller it lets in and no `If-Match` (then `If-Match: *`): the answer must be 428,
whatever the record, before anything is read. Every answer carries `X-Request-ID`, as
every response in the specs declares.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from meetings_api.app import create_app as meetings_app
from meetings_api.settings import MeetingsSettings
from referral_api.app import create_app as referral_app
from referral_api.settings import ReferralSettings
from risk_api.app import create_app as risk_app
from risk_api.settings import RiskSettings
from safeguarding_kit.openapi_components import HTTP_METHODS
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.partnership.policy import Capacity
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.testing import TokenFactory

SERVICES: dict[str, tuple[Callable[[Any], FastAPI], type[DatabaseSettings]]] = {
    "referral-api": (referral_app, ReferralSettings),
    "risk-api": (risk_app, RiskSettings),
    "meetings-api": (meetings_app, MeetingsSettings),
}
IF_MATCH_REF = "#/components/parameters/IfMatch"


@pytest.fixture(params=sorted(SERVICES))
def service(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[TestClient]:
    """A service's app over a database it never reaches (428 comes before any read)."""
    create_app, settings_class = SERVICES[request.param]
    settings = settings_class(  # type: ignore[call-arg]
        database_url="sqlite://", data_dir=data_dir, environment="test", events_relay_enabled=False
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _operations_needing_if_match(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS and {"$ref": IF_MATCH_REF} in operation.get("parameters", [])
    ]


def _caller_headers(tokens: TokenFactory, agreement: Agreement, operation: dict[str, Any]) -> dict[str, str]:
    """A token the operation's first permission lets in: one of its roles, at an agency of
    the agreement with its capacity."""
    permission = operation["x-required-permissions"][0]
    capacity = permission["capacity"]
    slug = agreement.agencies_with(Capacity(capacity))[0] if capacity else "sheffield-social-care"
    entry = agreement.agency(slug)
    assert entry is not None
    return tokens.headers(agency=slug, agency_type=entry.type.value, roles=permission["roles"][:1])


def test_every_operation_declaring_if_match_required_answers_428_without_it(
    service: TestClient, tokens: TokenFactory
) -> None:
    spec = service.app.openapi()  # type: ignore[attr-defined]
    agreement: Agreement = service.app.state.agreement  # type: ignore[attr-defined]
    needing = _operations_needing_if_match(spec)
    assert needing, "no operation of this service declares If-Match"
    assert spec["components"]["parameters"]["IfMatch"]["required"] is True
    for method, path, operation in needing:
        url = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
        headers = _caller_headers(tokens, agreement, operation)
        for if_match in (None, "*"):
            sent = headers if if_match is None else {**headers, "If-Match": if_match}
            answer = service.request(method.upper(), url, headers=sent, json={})
            where = f"{method.upper()} {path} with If-Match {if_match}"
            assert answer.status_code == 428, f"{where}: {answer.status_code} {answer.text}"
            assert answer.json()["type"].endswith("if-match-required"), where
            assert answer.headers.get("x-request-id"), where
            assert {"412", "428"} <= set(operation["responses"]), where


def _offline_apps() -> dict[str, FastAPI]:
    return {
        name: create_app(settings_class(database_url="sqlite://", environment="test"))  # type: ignore[call-arg]
        for name, (create_app, settings_class) in SERVICES.items()
    }


APPS = _offline_apps()
# Ways to answer 201 that the kit's guard (a 201 without Location is refused when the
# answer is built: CreatedJSONResponse, VersionedJSONResponse) does not see.
UNGUARDED_ANSWERS = {"JSONResponse", "Response", "from_model"}


def _created_routes(app: FastAPI) -> list[APIRoute]:
    """The routes that answer 201 (included routers' routes are reached through their contexts)."""
    return [
        context.original_route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and context.include_in_schema
        and context.original_route.status_code == 201
    ]


def _says_201(node: ast.Call) -> bool:
    values = [*node.args, *(keyword.value for keyword in node.keywords)]
    return any(
        (isinstance(v, ast.Constant) and v.value == 201)
        or (isinstance(v, ast.Attribute) and v.attr.endswith("201_CREATED"))
        for v in values
    )


def _names_location(node: ast.Call) -> bool:
    return any(isinstance(n, ast.Constant) and n.value == "Location" for n in ast.walk(node))


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_201_is_answered_with_its_location(name: str) -> None:
    app = APPS[name]
    created = _created_routes(app)
    assert created
    modules = set()
    for route in created:
        returns = typing.get_type_hints(route.endpoint).get("return")
        # A model returned to FastAPI would be answered without any header of ours.
        assert isinstance(returns, type), f"{route.path}: returns {returns}"
        assert issubclass(returns, Response), f"{route.path}: returns {returns}"
        modules.add(inspect.getmodule(route.endpoint))
    for module in modules:
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(node, ast.Call) or not _says_201(node):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in UNGUARDED_ANSWERS:
                assert _names_location(node), f"{module.__name__}:{node.lineno} answers 201 without Location"


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_201_declares_location_and_every_answer_its_request_id(name: str) -> None:
    spec = APPS[name].openapi()
    shared = spec["components"]["responses"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                declared = shared[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                headers = declared.get("headers", {})
                where = f"{method.upper()} {path} {status}"
                assert headers.get("X-Request-ID") == {"$ref": "#/components/headers/X-Request-ID"}, where
                if status == "201":
                    assert "Location" in headers, where
                if status in ("429", "503"):
                    assert "Retry-After" in headers, where
