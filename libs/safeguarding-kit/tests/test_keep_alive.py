"""Idle connections between the platform's processes: the client lets go first.

Found in CI: a test's pooled connection to a service was reset ("Connection reset by peer")
because uvicorn closed it, idle for its 5 s, just as httpx, whose pool also keeps one for
5 s, sent the next request on it. Between the gateway and a service that is a partner's
POST answered 502 with nobody knowing whether it was acted on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from safeguarding_kit import cli
from safeguarding_kit.keep_alive import pool_limits
from safeguarding_kit.settings import ProcessSettings

USUAL_SERVER_DEFAULT_SECONDS = 5  # uvicorn's and Node.js's idle keep-alive
LOAD_BALANCER_IDLE_SECONDS = 60  # ingress-nginx upstream keep-alive, AWS ALB idle timeout


@pytest.fixture
def served_with(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``serve`` hands uvicorn, uvicorn itself not started."""
    options: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kwargs: options.update(kwargs))
    cli.serve(lambda settings: FastAPI(), ProcessSettings(), workers=1)
    return options


def test_a_service_keeps_an_idle_connection_open_longer_than_the_platforms_clients_pool_one(
    served_with: dict[str, Any],
) -> None:
    expiry = pool_limits().keepalive_expiry
    assert expiry is not None
    # Margin for a request that is sent just before the client's pool would let it go.
    assert served_with["timeout_keep_alive"] >= expiry + 5


def test_a_gateway_behind_a_load_balancer_outlasts_the_balancers_idle_connections(
    served_with: dict[str, Any],
) -> None:
    assert served_with["timeout_keep_alive"] > LOAD_BALANCER_IDLE_SECONDS


def test_the_relay_lets_go_of_an_idle_connection_before_a_partner_server_would_by_default() -> None:
    expiry = pool_limits(max_idle=4).keepalive_expiry
    assert expiry is not None
    assert expiry < USUAL_SERVER_DEFAULT_SECONDS


def test_a_pools_limits_are_what_its_owner_asks_for() -> None:
    gateway = pool_limits(32)
    assert (gateway.max_connections, gateway.max_keepalive_connections) == (32, 32)
    relay = pool_limits(max_idle=4)
    assert (relay.max_connections, relay.max_keepalive_connections) == (100, 4)
