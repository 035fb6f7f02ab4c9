"""Request ids, JSON logs that carry them, Prometheus request metrics, and whether FastAPI's
own OpenTelemetry is on.

The middleware is plain ASGI (no BaseHTTPMiddleware) so it adds next to nothing
to each request. Log lines carry the method, the route template, the status and
the duration - never the query string or a body, which may hold a child's name.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

from fastapi.telemetry import TelemetryConfig
from prometheus_client import Counter, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safeguarding_kit.problems import INTERNAL_ERROR_DETAIL, InternalError, problem_response
from safeguarding_kit.request_context import current_request_id, reset_request_id, set_request_id

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
)

access_log = logging.getLogger("safeguarding.access")


class RequestIdFilter(logging.Filter):
    """Adds the current request id and the process's service name to every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.service = self.service
        return True


def configure_logging(service: str, level: str = "INFO", *, json_lines: bool = True) -> None:
    """JSON lines on stderr, each with ``request_id`` and ``service``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter(service))
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(service)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Our own access line replaces uvicorn's, which would log query strings.
    logging.getLogger("uvicorn.access").disabled = True


def fastapi_telemetry(enabled: bool) -> TelemetryConfig:
    """FastAPI's native OpenTelemetry (spans, metrics, logs), on or off as a whole
    (``OPENTELEMETRY``). On, FastAPI's defaults: the global providers, which a deployer
    configures. Off, nothing is recorded or configured, and FastAPI no longer asks on every
    request whether a provider has been configured since the last (it read the environment
    to answer: about 9 microseconds a request)."""
    if enabled:
        return {}
    return {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


class RequestContextMiddleware:
    """Sets ``X-Request-ID`` (the caller's, if well-formed, else a new one), logs one
    access line per request and records the request metrics."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        token = set_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answer here rather than in Starlette's outer error middleware, so the
            # 500 still carries the request id (header and body) and is logged with it.
            logging.getLogger(__name__).exception("unhandled error")
            status = 500
            if not response_started:
                response = problem_response(
                    InternalError.status,
                    InternalError.slug,
                    InternalError.title,
                    INTERNAL_ERROR_DETAIL,
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, route, str(status)).inc()
            LATENCY.labels(self.service, method, route).observe(elapsed)
            extra: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            }
            access_log.info("request", extra=extra)
            reset_request_id(token)
