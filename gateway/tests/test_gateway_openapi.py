"""One OpenAPI document for integrators, combined from the services' own."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.openapi import combine_specs
from api_gateway.routing import Upstream
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream

PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}}}


def service_spec(paths: dict[str, list[str]], schemas: dict[str, dict] | None = None) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "a service", "version": "0.1.0"},
        "paths": {
            path: {
                method: {
                    "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('-', '_')}",
                    "tags": ["things"],
                    "security": [{"bearerAuth": []}],
                    "responses": {"200": {"description": "OK"}},
                }
                for method in methods
            }
            for path, methods in paths.items()
        },
        "components": {
            "schemas": {"ProblemDetails": PROBLEM, **(schemas or {})},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "tags": [{"name": "things"}],
    }


REFERRAL = service_spec({"/api/v1/referrals": ["get", "post"], "/api/v1/risk/sneaky": ["get"]})
RISK = service_spec(
    {"/api/v1/risk/children/{child_id}": ["get"]},
    schemas={"Child": {"type": "object", "properties": {"child_id": {"type": "string"}}}},
)
MEETINGS = service_spec(
    {"/api/v1/meetings/series": ["get"]},
    schemas={"Child": {"type": "object", "properties": {"pseudonym": {"type": "string"}}}},
)


def test_each_service_contributes_only_the_paths_the_gateway_routes_to_it():
    combined = combine_specs({Upstream.referral: REFERRAL, Upstream.risk: RISK, Upstream.meetings: MEETINGS})
    assert sorted(combined["paths"]) == [
        "/api/v1/meetings/series",
        "/api/v1/referrals",
        "/api/v1/risk/children/{child_id}",
    ]  # the referral service's /api/v1/risk/sneaky is not reachable, so not documented
    assert combined["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert combined["security"] == [{"bearerAuth": []}]


def test_two_services_with_different_schemas_of_one_name_keep_both():
    risk = service_spec({"/api/v1/risk/children/{child_id}": ["get"]}, schemas=RISK["components"]["schemas"])
    risk["paths"]["/api/v1/risk/children/{child_id}"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Child"}}
    }
    combined = combine_specs({Upstream.risk: risk, Upstream.meetings: MEETINGS})
    schemas = combined["components"]["schemas"]
    assert "pseudonym" in schemas["Child"]["properties"]  # meetings-api comes first by name
    assert "child_id" in schemas["RiskChild"]["properties"]
    ok = combined["paths"]["/api/v1/risk/children/{child_id}"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RiskChild"}


def test_each_services_partner_webhooks_are_kept_with_their_schemas_renamed_alike():
    def delivery(schema: str) -> dict:
        body = {
            "content": {
                "application/cloudevents+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
            }
        }
        return {"post": {"operationId": f"{schema}Webhook", "requestBody": body, "responses": {}}}

    risk = service_spec({"/api/v1/risk/children/{child_id}": ["get"]}, schemas=RISK["components"]["schemas"])
    risk["webhooks"] = {"risk.level_changed": delivery("Child")}
    meetings = {**MEETINGS, "webhooks": {"meeting.action_overdue": delivery("Child")}}

    combined = combine_specs({Upstream.risk: risk, Upstream.meetings: meetings, Upstream.referral: REFERRAL})

    assert list(combined["webhooks"]) == ["meeting.action_overdue", "risk.level_changed"]
    schema_of = {
        event_type: item["post"]["requestBody"]["content"]["application/cloudevents+json"]["schema"]
        for event_type, item in combined["webhooks"].items()
    }
    # The risk service's Child was renamed (the meetings service's came first): so is its webhook's ref.
    assert schema_of == {
        "meeting.action_overdue": {"$ref": "#/components/schemas/Child"},
        "risk.level_changed": {"$ref": "#/components/schemas/RiskChild"},
    }
    assert "webhooks" not in combine_specs({Upstream.referral: REFERRAL})


def test_every_operation_documents_what_the_gateway_itself_may_answer():
    combined = combine_specs({Upstream.referral: REFERRAL})
    post = combined["paths"]["/api/v1/referrals"]["post"]["responses"]
    get = combined["paths"]["/api/v1/referrals"]["get"]["responses"]
    assert {"401", "413", "429", "431", "502", "503", "504"} <= set(post)
    assert "413" not in get  # no body to be too large
    assert "431" in get  # every request has headers
    too_large = combined["components"]["responses"][get["431"]["$ref"].rsplit("/", 1)[1]]
    examples = too_large["content"]["application/problem+json"]["examples"]
    assert examples["request-headers-too-large"]["value"]["status"] == 431
    # Shared by every operation under components/responses.
    too_many = combined["components"]["responses"][get["429"]["$ref"].rsplit("/", 1)[1]]
    assert "Retry-After" in too_many["headers"]
    assert too_many["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ProblemDetails"
    }


def gateway_over(handler, data_dir: Path, **settings) -> TestClient:
    app = create_app(GatewaySettings(data_dir=data_dir, environment="test", log_json=False, **settings))
    client = TestClient(app)
    client.__enter__()
    app.state.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    app.state.upstream = HttpxUpstream(app.state.upstream_client)
    return client


SPECS_BY_PORT = {8101: REFERRAL, 8102: RISK, 8103: MEETINGS}


def test_the_gateway_serves_the_combined_spec_and_docs_without_a_token(data_dir):
    gateway = gateway_over(lambda r: httpx.Response(200, json=SPECS_BY_PORT[r.url.port]), data_dir)
    spec = gateway.get("/openapi.json").json()
    assert spec["info"]["title"] == "Safeguarding platform API"
    assert len(spec["paths"]) == 3
    docs = gateway.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
    gateway.__exit__(None, None, None)


def test_a_service_that_is_down_leaves_its_paths_out_and_says_so(data_dir):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.port == 8102:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json=SPECS_BY_PORT[request.url.port])

    gateway = gateway_over(handler, data_dir)
    spec = gateway.get("/openapi.json").json()
    assert sorted(spec["paths"]) == ["/api/v1/meetings/series", "/api/v1/referrals"]
    assert "risk-api could not be reached" in spec["info"]["description"]
    gateway.__exit__(None, None, None)


def test_docs_can_be_switched_off(data_dir):
    gateway = gateway_over(lambda r: httpx.Response(200, json={}), data_dir, docs_enabled=False)
    assert gateway.get("/openapi.json").status_code == 404
    assert gateway.get("/docs").status_code == 404
    gateway.__exit__(None, None, None)
