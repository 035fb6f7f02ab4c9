"""The gateway under faults: a service that is down is answered fast, and comes back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.breaker import CircuitBreaker
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_repeated_failures_and_lets_one_trial_through_after_the_cool_down():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=5, clock=clock)
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.is_open
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # only one at a time
    breaker.record_success()
    assert breaker.allow()
    assert not breaker.is_open


def test_a_failed_trial_opens_the_breaker_again():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now += 6
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()


def gateway_with(handler, data_dir: Path, **settings):
    app = create_app(GatewaySettings(data_dir=data_dir, environment="test", log_json=False, **settings))
    client = TestClient(app)
    client.__enter__()
    app.state.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    app.state.upstream = HttpxUpstream(app.state.upstream_client)
    return client


def test_a_stopped_service_is_failed_fast_after_the_breaker_opens_and_recovers(data_dir, tokens):
    calls = {"n": 0, "down": True}

    def service(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["down"]:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json={"items": []})

    gateway = gateway_with(
        service, data_dir, breaker_failure_threshold=2, breaker_reset_seconds=0.2, upstream_retries=0
    )
    headers = tokens.headers()
    assert [gateway.get("/api/v1/referrals", headers=headers).status_code for _ in range(2)] == [503, 503]
    reached = calls["n"]
    fast = gateway.get("/api/v1/referrals", headers=headers)
    assert fast.status_code == 503
    assert "retry-after" in fast.headers
    assert calls["n"] == reached  # answered without trying the service
    calls["down"] = False
    time.sleep(0.25)  # the breaker's cool-down
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 200
    gateway.__exit__(None, None, None)


def test_a_service_that_comes_back_broken_keeps_failing_fast_then_recovers_when_mended(data_dir, tokens):
    # Down (connection refused), then reachable but answering garbage to the trial request,
    # then mended: the breaker must neither stay open for good nor forget the broken trial.
    state = {"mode": "down", "n": 0}

    def service(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if state["mode"] == "down":
            raise httpx.ConnectError("connection refused")
        if state["mode"] == "broken":
            raise httpx.RemoteProtocolError("not HTTP")
        return httpx.Response(200, json={"items": []})

    gateway = gateway_with(
        service, data_dir, breaker_failure_threshold=1, breaker_reset_seconds=0.2, upstream_retries=0
    )
    headers = tokens.headers()
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 503  # opens
    state["mode"] = "broken"
    time.sleep(0.25)
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 502  # the trial
    reached = state["n"]
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 503  # open again
    assert state["n"] == reached
    state["mode"] = "mended"
    time.sleep(0.25)
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 200
    gateway.__exit__(None, None, None)


def test_a_trial_request_abandoned_by_its_caller_lets_the_next_one_try():
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.allow()  # the trial, whose caller then goes away
    breaker.abandon_trial()
    assert breaker.allow()


def test_a_post_is_never_retried(data_dir, tokens):
    calls = {"n": 0}

    def service(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        raise httpx.ConnectError("connection refused")

    gateway = gateway_with(service, data_dir, upstream_retries=2)
    assert gateway.post("/api/v1/referrals", json={}, headers=tokens.headers()).status_code == 503
    assert calls["n"] == 1
    assert gateway.get("/api/v1/referrals", headers=tokens.headers()).status_code == 503
    assert calls["n"] == 4  # a GET is tried three times
    gateway.__exit__(None, None, None)


def test_every_answer_says_where_the_time_went(data_dir, tokens):
    gateway = gateway_with(lambda request: httpx.Response(200, json={}), data_dir)
    timing = gateway.get("/api/v1/referrals", headers=tokens.headers()).headers["server-timing"]
    assert timing.startswith("gateway;dur=")
    assert ", upstream;dur=" in timing
    gateway.__exit__(None, None, None)


def test_cors_answers_configured_dashboard_origins_only(data_dir, tokens):
    gateway = gateway_with(
        lambda request: httpx.Response(200, json={}),
        data_dir,
        cors_allowed_origins=["https://dashboard.sheffield.example"],
    )
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    allowed = gateway.options(
        "/api/v1/stats/referrals", headers={"Origin": "https://dashboard.sheffield.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.sheffield.example"
    refused = gateway.options(
        "/api/v1/stats/referrals", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
    gateway.__exit__(None, None, None)


def test_small_and_large_answers_come_back_whole_with_repeated_headers_kept(data_dir, tokens):
    large = b"x" * (300 * 1024)  # over the size that is read whole: streamed

    def service(request: httpx.Request) -> httpx.Response:
        body = large if request.url.path.endswith("/large") else b'{"items": []}'
        return httpx.Response(
            200, content=body, headers=[("link", "<a>; rel=first"), ("link", "<b>; rel=next")]
        )

    gateway = gateway_with(service, data_dir)
    small = gateway.get("/api/v1/referrals", headers=tokens.headers())
    assert small.content == b'{"items": []}'
    assert small.headers.get_list("link") == ["<a>; rel=first", "<b>; rel=next"]
    streamed = gateway.get("/api/v1/referrals/large", headers=tokens.headers())
    assert streamed.content == large
    gateway.__exit__(None, None, None)
