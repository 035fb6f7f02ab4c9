"""Too many request header fields, or too large ones, are refused first: 431 problem+json
before the token is read, before the request counts against a rate limit, and before
anything is sent to a service. (The same over real sockets, where the HTTP server stops
reading a head over the limits: test_oversized_request_heads_over_real_sockets.py.)"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings

PROBLEM = "application/problem+json"
TOO_LARGE = "urn:safeguarding:problem:request-headers-too-large"
# What the test client sends on every request besides what a test adds: host, accept,
# accept-encoding, connection, user-agent.
CLIENT_DEFAULT_FIELDS = 5


def padding(count: int, value: str = "1") -> dict[str, str]:
    return {f"x-padding-{n:04}": value for n in range(count)}


def refused(answer) -> str:
    assert answer.status_code == 431, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["type"] == TOO_LARGE
    assert body["title"] == "Request header fields too large"
    return str(body["detail"])


def test_too_many_headers_are_refused_before_the_token_is_even_read(gateway, services):
    # A token that would be 401: the answer is 431, as nothing looked at the token.
    answer = gateway.get("/api/v1/referrals", headers={"Authorization": "Bearer not-a-token", **padding(150)})
    detail = refused(answer)
    assert detail.startswith("The request has 156 header fields; the gateway accepts at most 100.")
    assert "Authorization" in detail  # what to send instead
    assert services.requests == []


def test_a_hundred_fields_are_served_and_the_next_one_is_refused(gateway, tokens, services):
    allowed = 100 - CLIENT_DEFAULT_FIELDS - 1  # the token's field
    assert (
        gateway.get("/api/v1/referrals", headers={**tokens.headers(), **padding(allowed)}).status_code == 200
    )
    assert len(services.requests) == 1
    refused(gateway.get("/api/v1/referrals", headers={**tokens.headers(), **padding(allowed + 1)}))
    assert len(services.requests) == 1


def test_one_field_over_its_limit_is_refused_naming_it(gateway, tokens, services):
    answer = gateway.get("/api/v1/referrals", headers={**tokens.headers(), "X-Trace-Context": "z" * 8200})
    assert refused(answer).startswith(
        "The header field 'x-trace-context' is 8215 bytes (name and value); "
        "one field may be at most 8192 bytes."
    )
    assert services.requests == []


def test_fields_each_within_their_limit_but_too_many_bytes_in_all_are_refused(gateway, tokens, services):
    answer = gateway.get("/api/v1/referrals", headers={**tokens.headers(), **padding(3, "y" * 6000)})
    detail = refused(answer)
    assert detail.startswith("The request's header fields are ")
    assert "bytes in all (names and values); the gateway accepts at most 16384 bytes." in detail
    assert services.requests == []


def test_a_field_name_too_long_to_repeat_is_cut_short_in_the_answer(gateway, services):
    detail = refused(gateway.get("/api/v1/referrals", headers={"x-" + "n" * 9000: "1"}))
    assert "'x-" + "n" * 62 + "...'" in detail
    assert len(detail) < 400


def test_refused_requests_are_not_counted_against_the_clients_rate_limit(data_dir, tokens):
    settings = GatewaySettings(
        data_dir=data_dir, environment="test", log_json=False, rate_limit_reads="2/minute"
    )
    service = httpx.MockTransport(lambda request: httpx.Response(200, json={"items": []}))
    with TestClient(create_app(settings, upstream_transport=service)) as gateway:
        headers = tokens.headers(agency="leeds-police", agency_type="police")
        for _ in range(5):
            refused(gateway.get("/api/v1/referrals", headers={**headers, **padding(200)}))
        assert [gateway.get("/api/v1/referrals", headers=headers).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/nowhere"])
def test_paths_outside_the_api_are_held_to_the_same_limits(gateway, path):
    refused(gateway.get(path, headers=padding(200)))


def test_the_refusal_carries_the_callers_request_id_and_is_not_cached(gateway):
    answer = gateway.get("/api/v1/referrals", headers={"X-Request-ID": "trace-headers-1", **padding(200)})
    refused(answer)
    assert answer.headers["x-request-id"] == "trace-headers-1"
    assert answer.json()["request_id"] == "trace-headers-1"
    assert answer.headers["cache-control"] == "no-store"


def test_the_limits_are_settings_read_from_the_environment(monkeypatch, data_dir):
    monkeypatch.setenv("MAX_HEADER_FIELDS", "50")
    monkeypatch.setenv("MAX_HEADER_BYTES", "32768")
    monkeypatch.setenv("MAX_HEADER_FIELD_BYTES", "16384")
    settings = GatewaySettings(data_dir=data_dir, environment="test")
    assert (settings.max_header_fields, settings.max_header_bytes, settings.max_header_field_bytes) == (
        50,
        32768,
        16384,
    )
    # The HTTP server reads room for all of that, a request line and each line's framing.
    assert settings.max_request_head_bytes == 8192 + 32768 + 4 * 50 + 2


def test_defaults_are_a_hundred_fields_16_kib_in_all_and_8_kib_for_one(data_dir):
    settings = GatewaySettings(data_dir=data_dir, environment="test")
    assert (settings.max_header_fields, settings.max_header_bytes, settings.max_header_field_bytes) == (
        100,
        16384,
        8192,
    )


def test_one_field_allowed_more_bytes_than_all_fields_together_is_refused_at_start(data_dir):
    with pytest.raises(ValidationError, match="MAX_HEADER_FIELD_BYTES is more than MAX_HEADER_BYTES"):
        GatewaySettings(
            data_dir=data_dir, environment="test", max_header_bytes=8192, max_header_field_bytes=16384
        )
