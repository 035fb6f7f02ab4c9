"""A service run as several replicas behind the gateway: requests spread over the replicas
that are ready, a replica that fails is taken out and the request tried on another when
that is safe, and a replica that recovers is put back."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_gateway.app import create_app
from api_gateway.replicas import Lease, ReplicaPool
from api_gateway.routing import Upstream
from api_gateway.settings import GatewaySettings
from safeguarding_kit.testing import eventually, serving

A, B, C = "http://referral-a.test:8101", "http://referral-b.test:8101", "http://referral-c.test:8101"


class Replicas:
    """Replicas of the referral service on a mock network: each records what reached it and
    answers 200, unless it is ``down`` (the connection is refused) or answers with a status
    of its own for requests (``answers``) or for ``/readyz`` (``readiness``)."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.answers: dict[str, int] = {}
        self.readiness: dict[str, int] = {}
        self.requests: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        replica = f"http://{request.url.host}:{request.url.port}"
        probe = request.url.path in ("/readyz", "/healthz")
        if replica in self.down:
            if not probe:
                with self.lock:
                    self.refused[replica] += 1
            raise httpx.ConnectError("connection refused")
        if probe:
            return httpx.Response(self.readiness.get(replica, 200), json={})
        with self.lock:
            self.requests[replica] += 1
        return httpx.Response(self.answers.get(replica, 200), json={"replica": replica})


@pytest.fixture
def replicas() -> Replicas:
    return Replicas()


@contextmanager
def gateway_over(
    replicas: Replicas, data_dir: Path, urls: list[str], **settings: object
) -> Iterator[TestClient]:
    options: dict[str, object] = {
        "upstream_health_interval_seconds": 60.0,  # the tests that need checks ask for them
        **settings,
    }
    app = create_app(
        GatewaySettings(
            data_dir=data_dir,
            environment="test",
            log_json=False,
            referral_api_urls=urls,
            **options,  # type: ignore[arg-type]
        ),
        upstream_transport=httpx.MockTransport(replicas.handler),
    )
    with TestClient(app) as client:
        yield client


def served_by(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["replica"])


def test_requests_are_spread_over_the_replicas_in_turn(replicas, data_dir, tokens):
    with gateway_over(replicas, data_dir, [A, B, C]) as gateway:
        answered = [served_by(gateway.get("/api/v1/referrals", headers=tokens.headers())) for _ in range(9)]
    assert Counter(answered) == {A: 3, B: 3, C: 3}
    assert answered[:3] == [A, B, C]


def test_the_replica_with_the_fewest_requests_in_flight_takes_the_next_one():
    pool = ReplicaPool(Upstream.referral, [A, B, C])
    a = pool.replicas[0]
    slow_agenda = Lease(a)  # a long answer still being worked on
    assert [pool.choose().url for _ in range(4)] == [B, C, B, C]  # type: ignore[union-attr]
    slow_agenda.release()
    slow_agenda.release()  # released once, however often it ends
    assert a.outstanding == 0
    assert pool.choose() is not None


def test_a_dead_replica_is_taken_out_and_the_read_it_refused_is_answered_by_another(
    replicas, data_dir, tokens
):
    replicas.down.add(A)
    with gateway_over(replicas, data_dir, [A, B]) as gateway:
        answered = [served_by(gateway.get("/api/v1/referrals", headers=tokens.headers())) for _ in range(6)]
    assert answered == [B] * 6  # the first one after A refused it
    assert replicas.refused[A] == 1  # out of rotation after its first refusal: not asked again


@pytest.mark.parametrize(
    ("method", "headers", "retried"),
    [
        ("GET", {}, True),
        ("HEAD", {}, True),
        ("POST", {"Idempotency-Key": "2f1c6a52-create-once"}, True),
        ("PUT", {"If-Match": '"3"'}, True),
        ("DELETE", {"If-Match": '"3"'}, True),
        ("POST", {}, False),
        ("POST", {"If-Match": '"3"'}, False),  # a workflow transition: a POST need not be idempotent
        ("PATCH", {"If-Match": '"3"'}, False),
        ("PUT", {}, False),
        ("PUT", {"If-Match": "*"}, False),
        ("DELETE", {}, False),
    ],
)
def test_only_a_request_safe_to_repeat_is_tried_on_another_replica_after_a_refused_connection(
    replicas, data_dir, tokens, method, headers, retried
):
    replicas.down.add(A)  # the first replica in turn
    with gateway_over(replicas, data_dir, [A, B]) as gateway:
        response = gateway.request(
            method, "/api/v1/referrals/1", headers={**tokens.headers(), **headers}, json={}
        )
    assert replicas.refused[A] == 1
    if retried:
        assert response.status_code == 200
        assert replicas.requests[B] == 1
    else:
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert replicas.requests[B] == 0  # not sent on: the caller decides whether to repeat it


def test_a_non_idempotent_post_that_was_refused_is_not_retried_but_the_next_goes_elsewhere(
    replicas, data_dir, tokens
):
    replicas.down.add(A)
    with gateway_over(replicas, data_dir, [A, B]) as gateway:
        first = gateway.post("/api/v1/referrals", json={}, headers=tokens.headers())
        second = gateway.post("/api/v1/referrals", json={}, headers=tokens.headers())
    assert first.status_code == 503
    assert served_by(second) == B
    assert (replicas.refused[A], replicas.requests[B]) == (1, 1)


def test_a_replica_that_recovers_is_put_back_once_it_is_ready(replicas, data_dir, tokens):
    replicas.down.add(B)
    with gateway_over(replicas, data_dir, [A, B], upstream_health_interval_seconds=0.05) as gateway:

        def answered_by() -> list[str]:
            return [served_by(gateway.get("/api/v1/referrals", headers=tokens.headers())) for _ in range(4)]

        assert answered_by() == [A] * 4
        replicas.down.discard(B)  # restarted, and ready
        eventually(lambda: B in answered_by(), "the recovered replica took requests again", seconds=5)
        assert Counter(answered_by()) == {A: 2, B: 2}


def test_a_replica_that_is_up_but_not_ready_is_taken_out_until_it_is(replicas, data_dir, tokens):
    replicas.readiness[B] = 503  # its database is out of reach...
    replicas.answers[B] = 503  # ...so it answers 503 (database-unavailable)
    with gateway_over(replicas, data_dir, [A, B], upstream_health_interval_seconds=0.05) as gateway:

        def answered_by() -> list[str | int]:
            answers = [gateway.get("/api/v1/referrals", headers=tokens.headers()) for _ in range(4)]
            return [a.json()["replica"] if a.status_code == 200 else a.status_code for a in answers]

        eventually(lambda: answered_by() == [A] * 4, "the unready replica left the rotation", seconds=5)
        replicas.readiness[B] = replicas.answers[B] = 200
        eventually(lambda: B in answered_by(), "the replica came back once ready", seconds=5)


def test_a_503_passed_on_from_a_service_behind_a_ready_replica_does_not_take_it_out(
    replicas, data_dir, tokens
):
    # The meetings service answers 503 for an agenda while the risk service is down: the
    # replica itself is ready, so it stays in rotation.
    replicas.answers[A] = 503
    with gateway_over(replicas, data_dir, [A, B], upstream_health_interval_seconds=0.05) as gateway:
        statuses = []
        for _ in range(10):
            statuses.append(gateway.get("/api/v1/referrals", headers=tokens.headers()).status_code)
        assert Counter(statuses) == {503: 5, 200: 5}
        pool = gateway.app.state.replica_pools[Upstream.referral]  # type: ignore[attr-defined]
        assert all(replica.in_rotation for replica in pool.replicas)


def test_when_no_replica_is_ready_each_is_still_tried_rather_than_none(replicas, data_dir, tokens):
    replicas.readiness = {A: 503, B: 503}  # both say not ready, yet answer
    with gateway_over(replicas, data_dir, [A, B], upstream_health_interval_seconds=0.05) as gateway:
        pool = gateway.app.state.replica_pools[Upstream.referral]  # type: ignore[attr-defined]
        eventually(lambda: not any(replica.in_rotation for replica in pool.replicas), "both out", seconds=5)
        answered = [served_by(gateway.get("/api/v1/referrals", headers=tokens.headers())) for _ in range(4)]
    assert Counter(answered) == {A: 2, B: 2}


def test_every_replica_refusing_is_a_503_then_failed_fast_with_retry_after(replicas, data_dir, tokens):
    replicas.down |= {A, B}
    with gateway_over(
        replicas, data_dir, [A, B], breaker_failure_threshold=1, breaker_reset_seconds=30
    ) as gateway:
        first = gateway.get("/api/v1/referrals", headers=tokens.headers())
        tries = sum(replicas.refused.values())
        fast = gateway.get("/api/v1/referrals", headers=tokens.headers())
    assert (first.status_code, tries) == (503, 2)  # each replica tried once
    assert fast.status_code == 503
    assert 1 <= int(fast.headers["retry-after"]) <= 31
    assert sum(replicas.refused.values()) == tries  # answered without trying either


def test_the_gateway_is_ready_while_one_replica_of_each_service_is_alive(replicas, data_dir):
    replicas.down.add(A)
    with gateway_over(replicas, data_dir, [A, B]) as gateway:
        assert gateway.get("/readyz").status_code == 200
        replicas.down.add(B)
        assert gateway.get("/readyz").status_code == 503


class Alive(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"replica": "alive"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def closed_port_url() -> str:
    with serving(Alive) as url:
        pass
    return url


def test_over_real_sockets_a_stopped_replica_is_passed_over_for_a_live_one(data_dir, tokens):
    stopped = closed_port_url()
    with serving(Alive) as alive:
        app = create_app(
            GatewaySettings(
                data_dir=data_dir,
                environment="test",
                log_json=False,
                referral_api_urls=[stopped, alive],  # type: ignore[list-item]
                upstream_connect_timeout_seconds=0.5,
            )
        )
        with TestClient(app) as gateway:
            answers = [gateway.get("/api/v1/referrals", headers=tokens.headers()) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["replica"] for a in answers} == {"alive"}


def environment_settings(monkeypatch: pytest.MonkeyPatch, data_dir: Path, **env: str) -> GatewaySettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return GatewaySettings(data_dir=data_dir, environment="test")


def test_replicas_are_named_comma_separated_and_one_url_still_names_one(monkeypatch, data_dir):
    settings = environment_settings(
        monkeypatch,
        data_dir,
        REFERRAL_API_URLS="http://referral-1:8101, http://referral-2:8101",
        RISK_API_URL="http://risk:8102",
    )
    urls = settings.replica_urls()
    assert urls[Upstream.referral] == ["http://referral-1:8101", "http://referral-2:8101"]
    assert urls[Upstream.risk] == ["http://risk:8102"]
    assert urls[Upstream.meetings] == ["http://127.0.0.1:8103"]


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        (
            {"REFERRAL_API_URL": "http://a:8101", "REFERRAL_API_URLS": "http://b:8101,http://c:8101"},
            "not both",
        ),
        ({"RISK_API_URLS": "http://a:8102,http://a:8102"}, "twice"),
        ({"MEETINGS_API_URLS": "http://a:8103,not a url"}, "URL"),
    ],
)
def test_replica_lists_that_cannot_be_meant_are_refused_at_start(monkeypatch, data_dir, env, complaint):
    with pytest.raises(ValidationError, match=complaint):
        environment_settings(monkeypatch, data_dir, **env)
