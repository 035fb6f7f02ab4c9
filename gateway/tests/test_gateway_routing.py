"""What the gateway lets through, where it sends it, and what it strips."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api_gateway.headers import upstream_request_headers
from api_gateway.routing import Upstream, read_timeout_for, upstream_for
from api_gateway.settings import GatewaySettings


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/referrals", Upstream.referral),
        ("/api/v1/referrals/6f1c2d1e", Upstream.referral),
        ("/api/v1/children/abc/access-log", Upstream.referral),
        ("/api/v1/missing-episodes/overdue", Upstream.referral),
        ("/api/v1/stats/referrals", Upstream.referral),
        ("/api/v1/risk/models", Upstream.risk),
        ("/api/v1/meetings/series", Upstream.meetings),
        # Partner webhooks and audit chains: one scheme, each service under its own label.
        ("/api/v1/webhooks/referral-service/endpoints", Upstream.referral),
        ("/api/v1/webhooks/risk-service/endpoints", Upstream.risk),
        ("/api/v1/webhooks/meetings-service/endpoints/1/deliveries", Upstream.meetings),
        ("/api/v1/audit/referral-service/verification", Upstream.referral),
        ("/api/v1/audit/risk-service/verification", Upstream.risk),
        ("/api/v1/audit/meetings-service/verification", Upstream.meetings),
        ("/api/v1/webhooks/gateway-service/endpoints", None),
        ("/api/v1/referralsX", None),
        ("/api/v2/referrals", None),
        ("/admin", None),
    ],
)
def test_paths_route_to_the_service_that_owns_them(path, upstream):
    assert upstream_for(path) is upstream


def test_identity_and_hop_by_hop_headers_from_clients_are_dropped():
    sent = [
        ("Authorization", "Bearer t"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("X-Forwarded-Host", "evil"),
        ("Forwarded", "for=1.2.3.4"),
        ("X-User-Id", "admin"),
        ("Connection", "keep-alive, X-Secret"),
        ("X-Secret", "1"),
        ("Host", "gateway"),
        ("X-Request-ID", "client-chosen"),
        ("Accept", "application/json"),
    ]
    forwarded = dict(upstream_request_headers(sent, request_id="rid-123456", client_host="127.0.0.9"))
    assert forwarded == {
        "authorization": "Bearer t",
        "accept": "application/json",
        "x-request-id": "rid-123456",
        "x-forwarded-for": "127.0.0.9",
    }


def test_a_valid_request_is_forwarded_with_its_token_and_request_id(gateway, tokens, services):
    response = gateway.get(
        "/api/v1/risk/models?limit=5",
        headers={**tokens.headers(), "X-Request-ID": "trace-00000001"},
    )
    assert response.status_code == 200
    reached = services.requests[-1]
    assert reached.url.port == 8102
    assert reached.url.query == b"limit=5"
    assert reached.headers["authorization"].startswith("Bearer ")
    assert reached.headers["x-request-id"] == "trace-00000001"
    assert "server" not in response.headers


def test_a_percent_encoded_path_reaches_the_service_as_the_caller_encoded_it(gateway, tokens, services):
    # Decoded, these would be a control character, a non-ASCII letter and a slash: an
    # invalid request line to the service, or another path.
    response = gateway.get("/api/v1/children/%18%F2%A3%81%92%2F..?q=%00%C3%A9", headers=tokens.headers())
    assert response.status_code == 200
    assert services.requests[-1].url.raw_path == b"/api/v1/children/%18%F2%A3%81%92%2F..?q=%00%C3%A9"


def test_requests_without_a_valid_token_never_reach_a_service(gateway, services):
    assert gateway.get("/api/v1/referrals").status_code == 401
    assert gateway.get("/api/v1/referrals", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert services.requests == []


def test_a_body_over_the_limit_is_413_before_it_reaches_a_service(gateway, tokens, services):
    response = gateway.post(
        "/api/v1/referrals",
        content=b"x" * 5000,
        headers={**tokens.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert services.requests == []


def test_a_method_the_gateway_does_not_forward_is_405_problem_and_reaches_no_service(
    gateway, services, tokens
):
    response = gateway.request("TRACE", "/api/v1/referrals", headers=tokens.headers())
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]
    assert services.requests == []


ROUTE_TIMEOUTS = {"/api/v1/meetings/occurrences": 30.0, "/api/v1/meetings": 12.0}


@pytest.mark.parametrize(
    ("path", "seconds"),
    [
        ("/api/v1/meetings/occurrences/9d1c/agenda/generate", 30.0),  # the longest prefix wins
        ("/api/v1/meetings/occurrences", 30.0),
        ("/api/v1/meetings/series", 12.0),
        ("/api/v1/meetings/occurrencesX", 12.0),  # whole path segments only
        ("/api/v1/referrals", 10.0),  # no route of its own: the default
    ],
)
def test_a_route_waits_as_long_as_its_own_timeout_says(path, seconds):
    assert read_timeout_for(path, ROUTE_TIMEOUTS, default=10.0) == seconds


@pytest.mark.parametrize("timeouts", [{"/admin": 5.0}, {"/api/v1/stats": 0.0}, {"/api/v1/stats": 600.0}])
def test_a_route_timeout_outside_the_api_or_unbounded_is_refused_at_start(timeouts, data_dir):
    with pytest.raises(ValidationError, match="route timeout"):
        GatewaySettings(data_dir=data_dir, environment="test", upstream_route_timeouts=timeouts)
