"""OWASP API8:2023 Security misconfiguration: what the processes say about themselves
(server banners, stack traces, debug mode, interactive docs), what browsers are allowed
(CORS, content sniffing, caching of case records), and whether production settings
refuse development conveniences (the dev issuer, placeholder secrets, webhooks to
private addresses).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_gateway.app import create_app as create_gateway
from api_gateway.settings import GatewaySettings
from meetings_api.app import create_app as create_meetings
from meetings_api.settings import MeetingsSettings
from referral_api.app import create_app as create_referral
from referral_api.settings import ReferralSettings
from risk_api.app import create_app as create_risk
from risk_api.settings import RiskSettings
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DEV_EVENTS_SECRET, DatabaseSettings

pytestmark = pytest.mark.e2e

PROCESSES = ("gateway", "referral-api", "risk-api", "meetings-api")
DASHBOARD = "https://dashboard.sheffield.example"
SOFTWARE = ("uvicorn", "starlette", "fastapi", "python", "hypercorn", "gunicorn", "aiohttp", "httpx")


def assert_says_nothing_of_its_software(answer: httpx.Response) -> None:
    assert "server" not in answer.headers, answer.headers.get("server")
    assert "x-powered-by" not in answer.headers
    for name, value in answer.headers.items():
        assert not any(word in value.lower() for word in SOFTWARE), f"{name}: {value}"


@pytest.mark.parametrize("process", PROCESSES)
def test_no_answer_names_the_server_software_or_its_version(http, stack, as_, process):
    base = stack.config.url_of(process)
    path = {
        "gateway": "/api/v1/referrals",
        "referral-api": "/api/v1/referrals",
        "risk-api": "/api/v1/risk/models",
        "meetings-api": "/api/v1/meetings/series",
    }[process]
    for answer in (
        http.get(base + "/healthz"),
        http.get(base + path),  # 401
        http.get(base + path, headers=as_("social worker")),  # 200
        http.get(base + "/no/such/path"),  # 404
        http.request("TRACE", base + path, headers=as_("social worker")),  # 405
    ):
        assert_says_nothing_of_its_software(answer)


def test_the_trace_method_is_refused_and_echoes_nothing(http, stack, as_, problem):
    for process in PROCESSES:
        base = stack.config.url_of(process)
        secret = f"owasp-{uuid.uuid4().hex}"
        answer = http.request(
            "TRACE",
            base + "/api/v1/referrals",
            headers={**as_("social worker"), "X-Secret": secret},
            timeout=15,
        )
        assert answer.status_code in (404, 405), f"{process}: {answer.status_code}"
        problem(answer, answer.status_code)
        assert secret not in answer.text


def test_errors_from_bad_input_are_problems_without_a_stack_trace(gateway, as_, problem, school_case):
    worker = as_("social worker")
    attempts = [
        (
            "POST",
            "/api/v1/referrals",
            {"content": b'{"child": ', "headers": {"content-type": "application/json"}},
            400,  # JSON that cannot be read: the documented 400, not a validation error
        ),
        (
            "POST",
            "/api/v1/referrals",
            {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}},
            None,
        ),
        ("POST", "/api/v1/referrals", {"json": {"child_id": "not-a-uuid"}}, 422),
        ("POST", "/api/v1/referrals", {"json": [1, 2, 3]}, 422),
        ("GET", "/api/v1/referrals/not-a-uuid", {}, 422),
        ("GET", "/api/v1/referrals", {"params": {"received_from": "yesterday"}}, 422),
        ("GET", "/api/v1/referrals", {"params": {"status": "'; DROP TABLE referrals; --"}}, 422),
        ("PATCH", f"/api/v1/children/{school_case.child_id}", {"json": {"school": "X"}}, 428),
        (
            "PATCH",
            f"/api/v1/children/{school_case.child_id}",
            {"json": {"school": "X"}, "headers": {"If-Match": "garbage"}},
            412,
        ),
        ("GET", "/api/v1/risk/children", {"params": {"level_changed_since": "\x00"}}, 422),
        (
            "POST",
            f"/api/v1/meetings/occurrences/{uuid.uuid4()}/agenda/items",
            {"json": {"kind": "nonsense"}, "headers": as_("coordinator")},
            422,
        ),
    ]
    for method, path, options, status in attempts:
        headers = {**worker, **options.pop("headers", {})}
        answer = gateway.request(method, path, headers=headers, **options)
        body = problem(answer, status or answer.status_code)
        assert 400 <= answer.status_code < 500, f"{method} {path}: {answer.status_code}"
        for leak in ("sqlalchemy", "psycopg", "sqlite", "pydantic_core", "site-packages", ".py"):
            assert leak not in json.dumps(body).lower(), f"{method} {path} leaked {leak!r}: {body}"


def test_an_unexpected_failure_is_a_bare_500_problem_with_the_request_id_and_no_trace(tmp_path, data_dir):
    router = APIRouter()

    @router.get("/api/v1/explode")
    def explode() -> None:
        raise RuntimeError("SELECT nhs_number FROM children WHERE id = 42 -- secret detail")

    settings = ReferralSettings(
        database_url=f"sqlite:///{tmp_path / 'boom.db'}",
        data_dir=data_dir,
        environment="test",
        log_json=False,
        events_relay_enabled=False,
    )
    app = create_service_app(settings, title="Boom", version="0", description="", routers=[router])
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/explode", headers={"X-Request-ID": "owasp-boom-0001"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["request_id"] == answer.headers["x-request-id"] == "owasp-boom-0001"
    for leak in ("Traceback", "RuntimeError", "nhs_number", "SELECT", 'File "'):
        assert leak not in answer.text
    assert answer.headers["cache-control"] == "no-store"


EXAMPLE_AGREEMENT = Path(__file__).parents[2] / "deploy/partnership/example-production-agreement.yaml"
DEMO_AGREEMENT = Path(__file__).parents[2] / "deploy/partnership/demo-agreement.yaml"


def service_settings(
    settings_class: type[DatabaseSettings], tmp_path: Path, **overrides: object
) -> DatabaseSettings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'service.db'}",
        "data_dir": tmp_path,
        "log_json": False,
        "events_relay_enabled": False,
    }
    values.update(overrides)
    return settings_class(**values)


PRODUCTION = {
    "environment": "production",
    "dev_issuer_enabled": False,
    "trusted_issuers": [
        {
            "issuer": "https://login.police.example/realms/syp",
            "public_key_pem": "-----BEGIN PUBLIC KEY-----\n...",
        }
    ],
    "partnership_agreement_file": EXAMPLE_AGREEMENT,
    "events_signing_secret": "a-real-secret-of-more-than-32-characters-0123",
}
SERVICES: dict[str, tuple[type[DatabaseSettings], Callable[[DatabaseSettings], FastAPI]]] = {
    "referral-api": (ReferralSettings, create_referral),
    "risk-api": (RiskSettings, create_risk),
    "meetings-api": (MeetingsSettings, create_meetings),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_services_run_with_debug_off_and_no_interactive_docs_in_production(tmp_path, service, problem):
    settings_class, create_app = SERVICES[service]
    app = create_app(service_settings(settings_class, tmp_path, **PRODUCTION))
    assert app.debug is False
    client = TestClient(app)  # no lifespan: nothing here needs the database
    problem(client.get("/docs"), 404)
    problem(client.get("/redoc"), 404)


def test_the_gateway_runs_with_debug_off(tmp_path):
    assert create_gateway(GatewaySettings(data_dir=tmp_path, environment="test")).debug is False


def test_the_gateway_serves_docs_when_docs_enabled_says_so(gateway):
    # The shared stack runs with the default, DOCS_ENABLED=true.
    assert gateway.get("/docs").headers["content-type"].startswith("text/html")
    assert "paths" in gateway.get("/openapi.json").json()


def test_the_gateway_serves_no_docs_when_docs_are_disabled(stack, problem):
    settings = GatewaySettings(
        data_dir=stack.config.data_dir,
        environment="test",
        log_json=False,
        docs_enabled=False,
        referral_api_url=stack.config.url_of("referral-api"),
        risk_api_url=stack.config.url_of("risk-api"),
        meetings_api_url=stack.config.url_of("meetings-api"),
    )
    with TestClient(create_gateway(settings)) as client:
        for path in ("/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect"):
            problem(client.get(path), 404)


def test_cors_grants_nothing_when_no_origin_is_configured(gateway):
    answer = gateway.options(
        "/api/v1/referrals",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert not any(name.startswith("access-control-") for name in answer.headers)


@pytest.fixture
def dashboard_gateway(stack) -> Iterator[TestClient]:
    """The gateway configured for one dashboard origin, in front of the real services."""
    settings = GatewaySettings(
        data_dir=stack.config.data_dir,
        environment="test",
        log_json=False,
        cors_allowed_origins=[DASHBOARD],
        referral_api_url=stack.config.url_of("referral-api"),
        risk_api_url=stack.config.url_of("risk-api"),
        meetings_api_url=stack.config.url_of("meetings-api"),
    )
    with TestClient(create_gateway(settings)) as client:
        yield client


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://dashboard.sheffield.example.evil.example",  # the allowed origin as a prefix
        "https://evil-dashboard.sheffield.example",
        "http://dashboard.sheffield.example",  # scheme downgrade
        "https://dashboard.sheffield.example:8443",
        "null",  # sandboxed iframes and file:// pages
    ],
)
def test_cors_is_granted_to_the_configured_origin_only(dashboard_gateway, as_, problem, origin):
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = dashboard_gateway.options("/api/v1/referrals", headers={"Origin": DASHBOARD, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == DASHBOARD

    refused = dashboard_gateway.options("/api/v1/referrals", headers={"Origin": origin, **preflight})
    problem(refused, 400)
    assert not any(name.startswith("access-control-allow") for name in refused.headers), refused.headers
    read = dashboard_gateway.get("/api/v1/referrals", headers={"Origin": origin, **as_("social worker")})
    assert read.status_code == 200
    assert "access-control-allow-origin" not in read.headers
    assert "access-control-allow-credentials" not in allowed.headers


def case_record_paths(school_case, police_case) -> dict[str, tuple[str, str]]:
    return {
        "child": ("referral-api", f"/api/v1/children/{school_case.child_id}"),
        "children": ("referral-api", "/api/v1/children"),
        "referral": ("referral-api", f"/api/v1/referrals/{school_case.referral_id}"),
        "missing episode": ("referral-api", f"/api/v1/missing-episodes/{police_case.episode_id}"),
        "risk": ("risk-api", f"/api/v1/risk/children/{police_case.child_id}"),
        "assessment": ("risk-api", f"/api/v1/risk/assessments/{police_case.assessment_id}"),
        "meetings": ("meetings-api", "/api/v1/meetings/series"),
        "unknown child (404)": ("referral-api", f"/api/v1/children/{uuid.uuid4()}"),
        "bad id (422)": ("risk-api", "/api/v1/risk/children/not-an-id"),
    }


@pytest.mark.parametrize("route", ["gateway", "direct"])
def test_case_records_are_never_cached_nor_sniffed(http, stack, as_, school_case, police_case, route):
    worker = as_("social worker")
    for record, (service, path) in case_record_paths(school_case, police_case).items():
        base = stack.config.gateway_url if route == "gateway" else stack.config.url_of(service)
        answer = http.get(base + path, headers=worker)
        assert answer.headers.get("x-content-type-options") == "nosniff", record
        assert answer.headers.get("cache-control") == "no-store", record
        assert answer.headers.get_list("cache-control") == ["no-store"], f"{record}: header repeated"
    for unauthenticated in (
        http.get(stack.config.gateway_url + "/api/v1/referrals"),
        http.get(stack.config.gateway_url + "/api/v2/referrals"),
    ):
        assert unauthenticated.headers.get("x-content-type-options") == "nosniff"
        assert unauthenticated.headers.get("cache-control") == "no-store"


def test_dashboard_figures_keep_their_own_short_private_caching(gateway, as_):
    figures = gateway.get(
        "/api/v1/stats/referrals", params={"group_by": "quarter"}, headers=as_("health analyst")
    )
    assert figures.status_code == 200, figures.text
    assert figures.headers["cache-control"] == "private, max-age=60"
    assert figures.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("unsafe", "why"),
    [
        ({"dev_issuer_enabled": True}, "DEV_ISSUER_ENABLED"),
        ({"trusted_issuers": []}, "TRUSTED_ISSUERS"),
        ({"events_signing_secret": DEV_EVENTS_SECRET}, "EVENTS_SIGNING_SECRET"),
        ({"events_signing_secret": "short-but-not-the-default"}, "EVENTS_SIGNING_SECRET"),
        ({"webhook_private_addresses_allowed": True}, "WEBHOOK_PRIVATE_ADDRESSES_ALLOWED"),
        # The demonstration agreement binds no production issuer: it vouches for nobody here.
        ({"partnership_agreement_file": DEMO_AGREEMENT}, "is not in the agreement"),
    ],
)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_production_settings_refuse_development_conveniences(tmp_path, service, unsafe, why):
    settings_class, _ = SERVICES[service]
    with pytest.raises(ValidationError, match=why):
        service_settings(settings_class, tmp_path, **{**PRODUCTION, **unsafe})
    service_settings(settings_class, tmp_path, **PRODUCTION)  # and the production settings themselves pass


@pytest.mark.parametrize(
    ("unsafe", "why"),
    [
        ({"dev_issuer_enabled": True}, "DEV_ISSUER_ENABLED"),
        ({"trusted_issuers": []}, "TRUSTED_ISSUERS"),
        ({"partnership_agreement_file": DEMO_AGREEMENT}, "is not in the agreement"),
    ],
)
def test_production_gateway_settings_refuse_the_dev_issuer(tmp_path, unsafe, why):
    production = {k: v for k, v in PRODUCTION.items() if k != "events_signing_secret"}
    with pytest.raises(ValidationError, match=why):
        GatewaySettings(data_dir=tmp_path, **{**production, **unsafe})
    GatewaySettings(data_dir=tmp_path, **production)
