"""Per-client rate limits: one partner system flooding the gateway is slowed down with
429s while every other client carries on; writes are held tighter than reads."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.rate_limits import RouteClass, route_class
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream

REDIS_URL = "127.0.0.1:6379"


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"items": []})


def started_gateway(data_dir: Path, **settings: object) -> TestClient:
    app = create_app(GatewaySettings(data_dir=data_dir, environment="test", log_json=False, **settings))
    client = TestClient(app)
    client.__enter__()
    app.state.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(ok))
    app.state.upstream = HttpxUpstream(app.state.upstream_client)
    return client


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def test_a_flood_from_one_client_gets_429_while_another_client_is_served(data_dir, tokens):
    gateway = started_gateway(data_dir, rate_limit_reads="5/minute")
    flooding = tokens.headers(agency="leeds-police", agency_type="police", sub="nightly-sync")
    other = tokens.headers(agency="sheffield-social-care", agency_type="social_care")

    answers = [gateway.get("/api/v1/referrals", headers=flooding) for _ in range(8)]

    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:safeguarding:problem:rate-limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "wait" in refused.json()["detail"]
    assert gateway.get("/api/v1/referrals", headers=other).status_code == 200
    gateway.__exit__(None, None, None)


def test_the_same_sub_at_another_agency_is_another_client(data_dir, tokens):
    gateway = started_gateway(data_dir, rate_limit_reads="2/minute")
    at_police = tokens.headers(agency="leeds-police", agency_type="police", sub="integration")
    at_health = tokens.headers(agency="leeds-health", agency_type="health", sub="integration")
    for _ in range(2):
        assert gateway.get("/api/v1/referrals", headers=at_police).status_code == 200
    assert gateway.get("/api/v1/referrals", headers=at_police).status_code == 429
    assert gateway.get("/api/v1/referrals", headers=at_health).status_code == 200
    gateway.__exit__(None, None, None)


def test_writes_have_their_own_tighter_budget(data_dir, tokens):
    gateway = started_gateway(data_dir, rate_limit_reads="100/minute", rate_limit_writes="2/minute")
    headers = tokens.headers(agency="leeds-police", agency_type="police", roles=["referrer"])
    posts = [gateway.post("/api/v1/referrals", json={}, headers=headers).status_code for _ in range(3)]
    assert posts == [200, 200, 429]
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 200
    gateway.__exit__(None, None, None)


def test_a_refused_token_is_not_counted_as_anyone(data_dir, tokens):
    gateway = started_gateway(data_dir, rate_limit_reads="1/minute")
    for _ in range(3):
        assert gateway.get("/api/v1/referrals", headers={"Authorization": "Bearer junk"}).status_code == 401
    assert gateway.get("/api/v1/referrals", headers=tokens.headers()).status_code == 200
    gateway.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", RouteClass.read),
        ("HEAD", RouteClass.read),
        ("POST", RouteClass.write),
        ("DELETE", RouteClass.write),
    ],
)
def test_safe_methods_are_reads_and_the_rest_are_writes(method, expected):
    assert route_class(method) == expected


@pytest.mark.skipif(not redis_is_up(), reason="needs the Redis server at 127.0.0.1:6379")
def test_two_gateway_workers_sharing_redis_hold_one_budget_per_client(data_dir, tokens):
    shared = {
        "rate_limit_reads": "6/minute",
        "rate_limit_storage_url": f"async+redis://{REDIS_URL}",
        "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}",
    }
    first, second = started_gateway(data_dir, **shared), started_gateway(data_dir, **shared)
    headers = tokens.headers(agency="leeds-police", agency_type="police")

    answers = [
        (first if n % 2 else second).get("/api/v1/referrals", headers=headers).status_code for n in range(10)
    ]

    assert answers == [200] * 6 + [429] * 4
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)


def test_when_the_counter_store_is_down_requests_are_let_through(data_dir, tokens):
    gateway = started_gateway(
        data_dir, rate_limit_reads="1/minute", rate_limit_storage_url="async+redis://127.0.0.1:1"
    )
    for _ in range(3):
        assert gateway.get("/api/v1/referrals", headers=tokens.headers()).status_code == 200
    gateway.__exit__(None, None, None)


def test_several_workers_counting_in_memory_is_refused_at_start(data_dir):
    with pytest.raises(ValueError, match="RATE_LIMIT_STORAGE_URL"):
        GatewaySettings(data_dir=data_dir, environment="test", workers=2)


def test_a_rate_that_cannot_be_read_is_refused_at_start(data_dir):
    with pytest.raises(ValueError, match="120/minute"):
        GatewaySettings(data_dir=data_dir, environment="test", rate_limit_writes="lots")
