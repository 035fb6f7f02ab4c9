"""A service built with its default settings leaves FastAPI's own OpenTelemetry off
(``OPENTELEMETRY``; the gateway's test of the same name turns it on too): no request asks
OpenTelemetry whether a tracer provider has been configured."""

from __future__ import annotations

from referral_scenarios import SCHOOL


def test_no_request_to_a_service_asks_opentelemetry_anything(client, tokens, opentelemetry_questions):
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/referrals", headers=tokens.headers(**SCHOOL)).status_code == 200
    assert opentelemetry_questions == []
