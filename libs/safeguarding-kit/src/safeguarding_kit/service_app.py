"""Build a service's FastAPI app with everything every service has alike:
problem+json errors, request ids and metrics, token verification, the database,
``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Table

from safeguarding_kit.audit.checkpoints import CheckpointFile, CheckpointSigner, checkpoint_thread
from safeguarding_kit.audit.models import AuditTables
from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair
from safeguarding_kit.auth.verifier import TokenVerifier
from safeguarding_kit.concurrency import install_stale_write_handler
from safeguarding_kit.db import Database
from safeguarding_kit.events import (
    EventHandler,
    EventTables,
    Outbox,
    PartnerAudience,
    events_router,
    relay_thread,
)
from safeguarding_kit.health import health_router
from safeguarding_kit.observability import RequestContextMiddleware, configure_logging, fastapi_telemetry
from safeguarding_kit.openapi import install_problem_openapi
from safeguarding_kit.problems import install_problem_handlers
from safeguarding_kit.relay_app import relay_policy
from safeguarding_kit.security_headers import SecurityHeadersMiddleware
from safeguarding_kit.settings import DatabaseSettings, Environment, ProcessSettings
from safeguarding_kit.start_up_heap import freeze_start_up_objects
from safeguarding_kit.storable_text import refuse_unstorable_text
from safeguarding_kit.webhooks.published import PartnerEvents
from safeguarding_kit.webhooks.routes import webhooks_router

log = logging.getLogger(__name__)


def verifier_http_client(settings: ProcessSettings) -> httpx.AsyncClient:
    """The process's one client for fetching issuers' JWKS: short timeouts, no redirects."""
    return httpx.AsyncClient(timeout=settings.jwks_fetch_timeout_seconds, follow_redirects=False)


@contextmanager
def audit_checkpoints(settings: DatabaseSettings, database: Database, audit: AuditTables) -> Iterator[None]:
    """Signed checkpoints of the audit chain head while the process runs, when configured.
    Every worker and replica runs the loop; each writes to the file its settings name (the same
    file, on a local filesystem, or one each: README, Audit checkpoints)."""
    key, file = settings.audit_checkpoint_key_file, settings.audit_checkpoint_file
    if not settings.audit_checkpoints_enabled or key is None or file is None:
        if settings.environment is Environment.production:
            log.warning(
                "%s: audit checkpoints are off (AUDIT_CHECKPOINT_KEY_FILE, AUDIT_CHECKPOINT_FILE): the "
                "audit chain is anchored nowhere outside the database",
                settings.service_name,
            )
        yield
        return
    with checkpoint_thread(
        database.sessions,
        audit,
        CheckpointSigner.from_pem_file(key),
        CheckpointFile(file),
        settings.service_name,
        settings.audit_checkpoint_interval_seconds,
    ):
        yield


def create_service_app(
    settings: DatabaseSettings,
    *,
    title: str,
    version: str,
    description: str,
    routers: Sequence[APIRouter],
    openapi_tags: list[dict[str, Any]] | None = None,
    resources: Callable[[FastAPI], AbstractContextManager[None]] | None = None,
    events: EventTables | None = None,
    event_handlers: Mapping[str, EventHandler] | None = None,
    projections: Mapping[str, EventHandler] | None = None,
    partner_audience: PartnerAudience | None = None,
    partner_events: PartnerEvents | None = None,
    idempotency: Table | None = None,
    audit: AuditTables | None = None,
) -> FastAPI:
    """A service app over its own database; routes get the session and the caller by
    dependency. ``resources`` opens what else the service holds for its lifetime (an
    HTTP client to other services, say) and closes it at shutdown. ``partner_audience``
    says which partner agencies' webhooks may hear of a child's events (none without it);
    ``partner_events``, which event types they may subscribe to: it mounts the agency
    admins' webhook endpoints and describes the deliveries in the spec's ``webhooks``.
    ``event_handlers`` apply other services' events as they are delivered; ``projections``
    apply the service's own events to its read models as it writes them.
    ``idempotency`` is the service's ``idempotency_keys`` table, for the operations that
    honour ``Idempotency-Key``. ``audit`` is the service's audit tables: with
    ``AUDIT_CHECKPOINT_KEY_FILE`` and ``AUDIT_CHECKPOINT_FILE`` set, a thread signs checkpoints
    of its chain head (:mod:`safeguarding_kit.audit.checkpoints`)."""
    if partner_events is not None and events is None:
        raise ValueError("partner webhooks are delivered from the outbox: give the service's events")
    configure_logging(settings.service_name, settings.log_level, json_lines=settings.log_json)
    database = Database(settings.resolved_database_url(), pool_size=settings.database_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.dev_issuer_enabled:
            ensure_dev_key_pair(settings.dev_issuer_dir)
        with ExitStack() as stack:
            if resources is not None:
                stack.enter_context(resources(app))
            if audit is not None:
                stack.enter_context(audit_checkpoints(settings, database, audit))
            if events is not None and settings.events_relay_enabled:
                stack.enter_context(
                    relay_thread(
                        database,
                        events,
                        settings.events_signing_secret,
                        settings.service_name,
                        policy=relay_policy(settings),
                    )
                )
            async with verifier_http_client(settings) as client:
                app.state.token_verifier = TokenVerifier.from_settings(settings, client)
                async with database.event_loop_engine():
                    freeze_start_up_objects()
                    yield
        database.dispose()

    production = settings.environment is Environment.production
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        debug=False,
        # Interactive docs are for development; the JSON spec stays for integrators.
        docs_url=None if production else "/docs",
        redoc_url=None,
        # "/api/v1/referrals/" is a 404, not a redirect naming this service's own address
        # (behind the gateway, that would point callers around it).
        redirect_slashes=False,
        dependencies=[Depends(refuse_unstorable_text)],
        telemetry=fastapi_telemetry(settings.opentelemetry),
    )
    app.state.settings = settings
    app.state.agreement = settings.agreement
    app.state.database = database
    app.state.idempotency_keys = idempotency
    install_problem_handlers(app)
    install_stale_write_handler(app)
    install_problem_openapi(app, partner_events)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer, 500s included
    app.include_router(health_router({"database": database.ping}))
    for router in routers:
        app.include_router(router)
    if events is not None and partner_events is not None:
        app.include_router(webhooks_router(events, partner_events))
    if events is not None:
        app.state.outbox = Outbox(
            events,
            list(settings.event_subscribers),
            settings.service_name,
            partner_audience,
            settings.agreement,
            projections or {},
        )
        app.include_router(events_router(events, settings.events_signing_secret, event_handlers or {}))
    return app
