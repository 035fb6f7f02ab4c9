"""FastAPI's own OpenTelemetry is the deployer's choice (``OPENTELEMETRY``), made once at
start. Off by default: the platform observes itself through JSON logs with request ids and
Prometheus metrics, and no request asks OpenTelemetry whether a provider has been
configured since the last one (a question FastAPI otherwise asks on every request)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings


@contextmanager
def gateway(data_dir: Path, **settings: object) -> Iterator[TestClient]:
    app = create_app(GatewaySettings(data_dir=data_dir, environment="test", log_json=False, **settings))
    with TestClient(app) as client:
        yield client


def test_by_default_no_request_asks_opentelemetry_anything(data_dir, opentelemetry_questions):
    with gateway(data_dir) as client:
        opentelemetry_questions.clear()  # what starting up asked is not a request's cost
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
    assert opentelemetry_questions == []


def test_a_deployer_who_turns_it_on_gets_each_request_offered_to_their_provider(
    data_dir, opentelemetry_questions
):
    with gateway(data_dir, opentelemetry=True) as client:
        opentelemetry_questions.clear()
        assert client.get("/healthz").status_code == 200
    assert opentelemetry_questions, "a request was not offered to the configured tracer provider"
