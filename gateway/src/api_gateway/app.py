"""The gateway's app: authenticate, route, forward; plus health and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from api_gateway.authentication import authenticate, token_verification
from api_gateway.cors import ProblemCORSMiddleware
from api_gateway.fast_path import ApiFastPath, proxy_asgi
from api_gateway.header_limits import HeaderLimits
from api_gateway.openapi import TITLE, LiveSpec
from api_gateway.proxy import forward
from api_gateway.rate_limits import RateLimits
from api_gateway.replica_health import replica_health_checks
from api_gateway.replicas import ReplicaPool
from api_gateway.routing import Upstream, is_calendar_feed_read, read_timeout_for, upstream_for
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import AiohttpUpstream, HttpxUpstream
from safeguarding_kit.health import health_router
from safeguarding_kit.keep_alive import pool_limits
from safeguarding_kit.observability import RequestContextMiddleware, configure_logging, fastapi_telemetry
from safeguarding_kit.problems import NotFound, install_problem_handlers
from safeguarding_kit.security_headers import SecurityHeadersMiddleware
from safeguarding_kit.start_up_heap import freeze_start_up_objects

PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def upstream_client(
    settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one pooled client to the services, with every timeout bounded."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        ),
        limits=pool_limits(settings.upstream_max_connections),
        follow_redirects=False,
        transport=transport,
    )


def create_app(
    settings: GatewaySettings | None = None, *, upstream_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The gateway for the services the settings name. ``upstream_transport`` (tests: an
    ``httpx.MockTransport`` standing in for the services) carries every request to them in
    place of the network, proxied ones included, from the start."""
    settings = settings or GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, json_lines=settings.log_json)
    # httpx carries only the gateway's own calls (each replica's readiness every few seconds,
    # spec fetches): a line for each would drown the log. What the checks find is logged.
    logging.getLogger("httpx").setLevel(max(logging.getLogger().level, logging.WARNING))
    replica_urls = settings.replica_urls()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            token_verification(app, settings),
            upstream_client(settings, upstream_transport) as client,
        ):
            app.state.upstream_client = client  # health checks and spec fetches
            app.state.upstream = (  # the hot path: every proxied request
                HttpxUpstream(client)
                if upstream_transport is not None
                else AiohttpUpstream(
                    connect_timeout=settings.upstream_connect_timeout_seconds,
                    read_timeout=settings.upstream_timeout_seconds,
                    max_connections=settings.upstream_max_connections,
                )
            )
            app.state.rate_limits = RateLimits.from_strings(
                storage_url=settings.rate_limit_storage_url,
                reads=settings.rate_limit_reads,
                writes=settings.rate_limit_writes,
                calendar_feeds=settings.rate_limit_calendar_feeds,
                key_prefix=settings.rate_limit_key_prefix,
            )
            # Each service's replicas with a circuit breaker each, made in the event loop that
            # serves the requests; their readiness asked in the background.
            app.state.replica_pools = {
                upstream: ReplicaPool(
                    upstream,
                    urls,
                    failure_threshold=settings.breaker_failure_threshold,
                    reset_seconds=settings.breaker_reset_seconds,
                )
                for upstream, urls in replica_urls.items()
            }
            try:
                async with replica_health_checks(
                    app.state.replica_pools.values(),
                    lambda: app.state.upstream_client,  # read at each round: tests may replace it
                    every=settings.upstream_health_interval_seconds,
                    probe_seconds=settings.upstream_connect_timeout_seconds + 1.0,
                ):
                    freeze_start_up_objects()
                    yield
            finally:
                await app.state.upstream.aclose()

    app = FastAPI(
        title="Safeguarding platform gateway",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        redirect_slashes=False,  # no redirect built from the caller's Host header
        telemetry=fastapi_telemetry(settings.opentelemetry),
    )
    install_problem_handlers(app)
    cors_options: dict[str, Any] = {
        "allow_origins": settings.cors_allowed_origins,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": [
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        "expose_headers": ["ETag", "Location", "X-Request-ID", "Server-Timing", "Retry-After"],
        "max_age": 600,
    }
    # Too many or too large header fields: 431 before anything reads them (inside CORS, so a
    # dashboard can read the answer).
    header_limits: dict[str, Any] = {
        "max_fields": settings.max_header_fields,
        "max_bytes": settings.max_header_bytes,
        "max_field_bytes": settings.max_header_field_bytes,
    }
    app.add_middleware(HeaderLimits, **header_limits)
    if settings.cors_allowed_origins:
        # Dashboards in browsers, from the configured origins only.
        app.add_middleware(ProblemCORSMiddleware, **cors_options)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    app.add_middleware(SecurityHeadersMiddleware)  # only where a service's answer has not set them

    def upstream_check(upstream: Upstream) -> Callable[[], Awaitable[bool]]:
        """The service is up when any of its replicas is alive."""

        async def alive(url: str) -> bool:
            try:
                response = await app.state.upstream_client.get(url + "/healthz")
            except httpx.HTTPError:
                return False
            return bool(response.status_code == 200)

        async def check() -> bool:
            return any(await asyncio.gather(*(alive(url) for url in replica_urls[upstream])))

        return check

    app.include_router(health_router({u.value: upstream_check(u) for u in Upstream}))

    async def proxy(request: Request) -> Response:
        started = time.perf_counter()
        upstream = upstream_for(request.url.path)
        if upstream is None:
            raise NotFound("There is no resource at this path.")
        rate_limits: RateLimits = request.app.state.rate_limits
        if is_calendar_feed_read(request.method, request.url.path, request.scope.get("raw_path", b"")):
            await rate_limits.check_calendar_feed(request.url.path)
        else:
            principal = await authenticate(request)
            await rate_limits.check(principal, request.method)
        return await forward(
            request,
            client=request.app.state.upstream,
            pool=request.app.state.replica_pools[upstream],
            max_body_bytes=settings.max_body_bytes,
            retries=settings.upstream_retries,
            started=started,
            read_timeout=read_timeout_for(
                request.url.path, settings.upstream_route_timeouts, settings.upstream_timeout_seconds
            ),
        )

    if settings.docs_enabled:
        live_spec = LiveSpec(replica_urls)

        async def openapi_json(request: Request) -> Response:
            return JSONResponse(await live_spec.current(request.app.state.upstream_client))

        async def docs(request: Request) -> HTMLResponse:
            return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{TITLE} - docs")

        app.add_route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False)
        app.add_route("/docs", docs, methods=["GET"], include_in_schema=False)

    # Every /api request takes a short path past the framework's routing and exception layers
    # to the proxy handler, behind the same middleware: this is the hot path of every partner.
    fast_chain: ASGIApp = HeaderLimits(
        proxy_asgi(proxy, route_path="/api/{path:path}", methods=PROXIED_METHODS), **header_limits
    )
    if settings.cors_allowed_origins:
        fast_chain = ProblemCORSMiddleware(fast_chain, **cors_options)
    fast_chain = SecurityHeadersMiddleware(
        RequestContextMiddleware(fast_chain, service=settings.service_name)
    )
    app.add_middleware(ApiFastPath, prefix="/api/", chain=fast_chain)
    return app
