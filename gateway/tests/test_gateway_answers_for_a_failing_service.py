"""What an integrator gets from the real gateway (its aiohttp hot path, real sockets) when
the service behind it misbehaves: 504 for a service too slow to answer, 502 for one that
answers something that is not HTTP, each as problem+json within the configured bounds;
and the gateway's own /healthz, /readyz and /metrics."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings
from safeguarding_kit.testing import raw_tcp_service

PROBLEM = "application/problem+json"


def never_answers(conn: socket.socket) -> None:
    """Accepts the request and says nothing: a service stuck on a lock or a slow query."""


def answers_garbage(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    conn.close()


@contextmanager
def gateway_in_front_of(service_url: str, data_dir: Path, **settings: object) -> Iterator[TestClient]:
    app = create_app(
        GatewaySettings(
            data_dir=data_dir,
            environment="test",
            log_json=False,
            referral_api_url=service_url,
            upstream_connect_timeout_seconds=0.5,
            upstream_timeout_seconds=0.5,
            **settings,  # type: ignore[arg-type]
        )
    )
    with TestClient(app) as client:
        yield client


def test_a_service_too_slow_to_answer_is_504_problem_within_the_timeout(data_dir, tokens):
    with raw_tcp_service(never_answers) as url, gateway_in_front_of(url, data_dir) as gateway:
        started = time.monotonic()
        response = gateway.get("/api/v1/referrals", headers=tokens.headers())
        waited = time.monotonic() - started
    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 504
    assert "referral" in response.json()["detail"].lower()
    # Bounded by the configured read timeout (0.5 s), with room for a slow machine; a GET
    # that timed out is not retried, so it is not twice the timeout or more.
    assert waited < 5


def test_a_route_with_a_timeout_of_its_own_waits_that_long_and_no_longer(data_dir, tokens):
    # The default (0.5 s here) would cut this route short; its own 2 s lets it wait.
    with (
        raw_tcp_service(never_answers) as url,
        gateway_in_front_of(url, data_dir, upstream_route_timeouts={"/api/v1/stats": 2.0}) as gateway,
    ):
        started = time.monotonic()
        slow_route = gateway.get("/api/v1/stats/referrals", headers=tokens.headers())
        waited_for_slow_route = time.monotonic() - started
        started = time.monotonic()
        other = gateway.get("/api/v1/referrals", headers=tokens.headers())
        waited_for_other = time.monotonic() - started
    assert (slow_route.status_code, other.status_code) == (504, 504)
    assert waited_for_slow_route >= 2.0  # a 504 cannot come before the route's timeout
    assert waited_for_other < 2.0


def test_a_service_that_answers_something_other_than_http_is_502_problem(data_dir, tokens):
    with raw_tcp_service(answers_garbage) as url, gateway_in_front_of(url, data_dir) as gateway:
        response = gateway.get("/api/v1/referrals", headers=tokens.headers())
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    assert "SSH" not in response.text  # what the service said is not passed on


def test_the_gateway_is_alive_not_ready_while_its_services_are_down_and_counts_what_it_answered(
    data_dir, tokens
):
    with raw_tcp_service(answers_garbage) as url, gateway_in_front_of(url, data_dir) as gateway:
        assert gateway.get("/healthz").status_code == 200
        ready = gateway.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"] == PROBLEM
        gateway.get("/api/v1/referrals", headers=tokens.headers())
        metrics = gateway.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    samples = [line for line in metrics.text.splitlines() if line.startswith("http_requests_total{")]
    # Every proxied path counts under one route label, so a caller cannot grow the metrics.
    assert any('route="/api/{path:path}"' in line and 'status="502"' in line for line in samples), samples


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_health_and_metrics_answer_without_a_token_as_orchestrators_and_scrapers_call_them(path, data_dir):
    with raw_tcp_service(never_answers) as url, gateway_in_front_of(url, data_dir) as gateway:
        response = gateway.get(path)
    assert response.status_code in (200, 503)
    assert response.status_code != 401
