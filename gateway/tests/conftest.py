from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream


class FakeServices:
    """Stands in for the three services: records what reached them, answers 200."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"service": request.url.port}, headers={"server": "uvicorn/0.1"})


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def gateway(data_dir: Path, tokens, services: FakeServices) -> Iterator[TestClient]:
    settings = GatewaySettings(data_dir=data_dir, environment="test", log_json=False, max_body_bytes=4096)
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(services.handler))
        app.state.upstream = HttpxUpstream(app.state.upstream_client)
        yield client
