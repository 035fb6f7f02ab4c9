"""OWASP API9:2023 Improper inventory management: the API the platform exposes is the
API it documents. Every route a service serves under /api is in the published spec
(openapi/gateway.json) and reachable through the gateway; nothing else is: the services'
event inbox, metrics and docs are not reachable through the gateway however the path is
spelt, unknown versions and paths are 404 problems, and no answer points a caller at a
service's own address.

tests/test_openapi_specs.py checks the checked-in specs match the code; this module
checks the inventory those specs describe against what is actually reachable.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from api_gateway.routing import ROUTES, upstream_for
from meetings_api.app import create_app as create_meetings
from meetings_api.settings import MeetingsSettings
from referral_api.app import create_app as create_referral
from referral_api.settings import ReferralSettings
from risk_api.app import create_app as create_risk
from risk_api.settings import RiskSettings
from safeguarding_kit.events import sign
from safeguarding_kit.settings import DEV_EVENTS_SECRET

pytestmark = pytest.mark.e2e

SPEC = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "gateway.json").read_text())
METHODS = {"get", "post", "put", "patch", "delete"}


def documented() -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, ops in SPEC["paths"].items() for method in ops if method in METHODS
    }


def served(tmp_path: Path) -> dict[str, set[tuple[str, str]]]:
    """Every (method, path) each service's app serves, from the apps themselves."""
    common = {"data_dir": tmp_path, "environment": "test", "log_json": False, "events_relay_enabled": False}
    apps = {
        "referral-api": create_referral(
            ReferralSettings(database_url=f"sqlite:///{tmp_path}/r.db", **common)
        ),
        "risk-api": create_risk(RiskSettings(database_url=f"sqlite:///{tmp_path}/k.db", **common)),
        "meetings-api": create_meetings(
            MeetingsSettings(database_url=f"sqlite:///{tmp_path}/m.db", **common)
        ),
    }
    return {
        name: {
            (method, str(route.path))
            for route in iter_route_contexts(app.routes)
            for method in (route.methods or set()) - {"HEAD"}
        }
        for name, app in apps.items()
    }


def test_every_route_a_service_serves_under_api_is_documented_and_routed_to_that_service(tmp_path):
    spec = documented()
    for service, routes in served(tmp_path).items():
        for method, path in routes:
            if not path.startswith("/api/"):
                continue
            assert (method, path) in spec, (
                f"{service} serves {method} {path}, which the spec does not document"
            )
            routed = upstream_for(path)
            assert getattr(routed, "value", None) == service, f"{path} is routed to {routed}"


def test_everything_the_spec_documents_is_served_and_nothing_else_is_routed(tmp_path):
    every_route = set().union(*served(tmp_path).values())
    for method, path in documented():
        assert (method, path) in every_route, f"the spec documents {method} {path}, which no service serves"
    for prefix, _ in ROUTES:
        assert any(path == prefix or path.startswith(prefix + "/") for _, path in documented()), prefix
    for service, routes in served(tmp_path).items():
        for _, path in routes:
            if not path.startswith("/api/"):
                assert upstream_for(path) is None, f"the gateway would route {service}'s {path}"


def test_the_gateways_live_spec_lists_the_same_operations_as_the_published_one(gateway):
    live = gateway.get("/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in live["paths"].items() for m in ops if m in METHODS}
    assert operations == documented()


def raw_request(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    """Send ``path`` exactly as written (an HTTP client would resolve its dot segments)."""
    host, port = url.removeprefix("http://").split(":")
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        "Connection: close",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=15) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def signed_event(child_id: str, agency: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "referral-api",
            "type": "child.agency_linked",
            "subject": child_id,
            "time": "2026-11-25T09:00:00Z",
            "data": {"child_id": child_id, "agency": agency, "reason": "referral"},
        }
    ).encode()
    stamp, message_id = int(time.time()), f"owasp-{uuid.uuid4()}"
    return {
        "content-type": "application/cloudevents+json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(DEV_EVENTS_SECRET, message_id, stamp, body),
    }, body


TRAVERSALS = [
    "/internal/events",
    "/api/internal/events",
    "/api/v1/internal/events",
    "/api/v1/risk/internal/events",
    "/api/v1/risk/../../../internal/events",
    "/api/v1/risk/%2e%2e/%2e%2e/%2e%2e/internal/events",
    "/api/v1/risk/..%2f..%2f..%2finternal/events",
    "/api/v1/risk/%2E%2E%2F%2E%2E%2F%2E%2E%2Finternal%2Fevents",
    "/api/v1/risk/..;/..;/..;/internal/events",
    "//internal/events",
]


def test_a_signed_event_cannot_be_delivered_through_the_gateway_however_the_path_is_spelt(
    stack, as_, police_case
):
    """Were the inbox reachable, this event would link the youth service to the police child."""
    youth = as_("youth practitioner")
    for path in TRAVERSALS:
        headers, body = signed_event(police_case.child_id, "sheffield-youth")
        status, answer = raw_request(stack.config.gateway_url, "POST", path, {**youth, **headers}, body)
        assert status == 404, f"POST {path}: {answer[:300]!r}"
        assert b"application/problem+json" in answer.lower()
    risk = raw_request(
        stack.config.gateway_url, "GET", f"/api/v1/risk/children/{police_case.child_id}", youth
    )
    assert risk[0] == 404, "an event reached the risk service's inbox through the gateway"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/referrals/../../../metrics",
        "/api/v1/risk/%2e%2e/%2e%2e/%2e%2e/readyz",
        "/api/v1/meetings/../../../docs",
        "/api/v1/referrals/../../../openapi.json",
    ],
)
def test_a_services_own_metrics_health_and_docs_are_not_reachable_through_the_gateway(stack, as_, path):
    status, answer = raw_request(stack.config.gateway_url, "GET", path, as_("social worker"))
    assert status == 404, f"GET {path}: {answer[:300]!r}"
    assert b"application/problem+json" in answer.lower()
    assert b"# HELP" not in answer
    assert b"swagger" not in answer.lower()


def internal_addresses(stack) -> set[bytes]:
    ports = (stack.config.referral_port, stack.config.risk_port, stack.config.meetings_port)
    return {f"127.0.0.1:{port}".encode() for port in ports} | {f"localhost:{port}".encode() for port in ports}


def assert_points_nowhere(stack, answer) -> None:
    assert "location" not in answer.headers, answer.headers["location"]
    raw = b"".join(k + b":" + v for k, v in answer.headers.raw) + answer.content
    assert not any(address in raw for address in internal_addresses(stack)), "the answer names a service"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/referrals",
        "/api/v0/referrals",
        "/api/v1.1/referrals",
        "/api/v1/referralsx",
        "/api/v1/admin",
        "/api/v1/users",
        "/api/v1",
        "/api",
        "/v1/referrals",
        "/api/v2/risk/models",
        "/api/v1/risk-admin",
    ],
)
def test_unknown_versions_and_paths_are_404_problems_with_or_without_a_token(
    stack, gateway, as_, problem, path
):
    for headers in ({}, as_("social worker")):
        answer = gateway.get(path, headers=headers)
        problem(answer, 404)
        assert_points_nowhere(stack, answer)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/referrals/",
        "/api/v1/children/",
        "/api/v1/risk/models/",
        "/api/v1/meetings/series/",
        "/api/v1/stats/",
    ],
)
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_services_own_address(
    stack, gateway, as_, problem, path
):
    problem(gateway.get(path, headers=as_("social worker")), 404)
    for answer in (gateway.get(path), gateway.get(path, headers=as_("social worker"))):
        assert_points_nowhere(stack, answer)
    # Nor at the gateway's own paths, where a redirect would be built from the caller's Host.
    for own in ("/healthz/", "/readyz/", "/docs/"):
        answer = gateway.get(own, headers={"Host": "evil.example"})
        problem(answer, 404)
        assert "location" not in answer.headers


def test_every_documented_operation_needs_a_token(gateway):
    """An undocumented exception to authentication would be an unlisted API."""
    for method, path in sorted(documented()):
        concrete = re.sub(r"\{[^}]+\}", str(uuid.UUID(int=1)), path)
        answer = gateway.request(method, concrete)
        assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
