"""A service's outbox relay as a process of its own: ``python -m <service> relay``.

By default the relay is a thread of each ``serve`` process (``EVENTS_RELAY_ENABLED``). On
PostgreSQL it can run apart instead: ``serve`` with ``EVENTS_RELAY_ENABLED=false`` and one or
more relay processes beside it, each sharing the outbox with the others through
``FOR UPDATE SKIP LOCKED`` exactly as the relays of several replicas do. Apart, the relay's
work (the due query, JSON, signatures, HTTP sends) no longer takes the interpreter lock from
the event loop answering requests, and the two scale separately (README, Throughput).

The process answers ``/healthz`` (503 once the relay's loop has not finished a cycle for
:data:`STUCK_AFTER_SECONDS`), ``/readyz`` (the database answers) and ``/metrics`` (the
deliveries' counters and gauges), and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from safeguarding_kit.background import Pulse
from safeguarding_kit.db import Database
from safeguarding_kit.events import EventTables, RelayPolicy, relay_thread
from safeguarding_kit.health import health_router
from safeguarding_kit.observability import configure_logging
from safeguarding_kit.problems import install_problem_handlers
from safeguarding_kit.settings import DatabaseSettings

log = logging.getLogger(__name__)

# A relay cycle that has not ended for this long is stuck: a cycle makes at most twenty passes
# while each delivers a full batch, every send bounded by its timeout.
STUCK_AFTER_SECONDS = 300.0


def relay_policy(settings: DatabaseSettings) -> RelayPolicy:
    """How hard the service's relay tries, from its settings."""
    return RelayPolicy(
        max_attempts=settings.events_max_attempts,
        backoff_base_seconds=settings.events_backoff_base_seconds,
        concurrent_sends=settings.events_concurrent_sends,
        private_addresses_allowed=settings.webhook_private_addresses_allowed,
    )


def create_relay_app(settings: DatabaseSettings, events: EventTables) -> FastAPI:
    """The relay process of the service whose settings and event tables these are."""
    configure_logging(settings.service_name, settings.log_level, json_lines=settings.log_json)
    database = Database(settings.resolved_database_url(), pool_size=settings.database_pool_size)
    pulse = Pulse()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pulse
        secret, service = settings.events_signing_secret, settings.service_name
        with relay_thread(database, events, secret, service, policy=relay_policy(settings)) as pulse:
            log.info("%s: outbox relay running in a process of its own", settings.service_name)
            yield
        database.dispose()

    app = FastAPI(
        title=f"{settings.service_name} outbox relay",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    install_problem_handlers(app)
    app.include_router(
        health_router(
            {"database": database.ping},
            liveness={"outbox relay": lambda: pulse.beaten_within(STUCK_AFTER_SECONDS)},
        )
    )
    return app
