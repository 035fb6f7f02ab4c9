"""The short path every proxied request takes.

A FastAPI route would put each request through the framework's routing, dependency and
exception layers before the handler runs; the gateway's handler needs none of them. For
paths under ``/api/`` the gateway's outermost middleware hands the request straight to
the handler, behind the same request-id, security-header and CORS middleware the rest of
the app has, turning the handler's :class:`Problem` errors into problem+json itself.
Everything else (health, metrics, the spec and docs) goes through FastAPI as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from safeguarding_kit.problems import Problem, problem_as_response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class _RouteName:
    """What the request-context middleware reads for the metrics' route label."""

    path: str


class MethodNotAllowed(Problem):
    """The path exists but does not take this method; `Allow` lists those it takes."""

    status, slug, title = 405, "method-not-allowed", "Method Not Allowed"


def proxy_asgi(handler: Handler, *, route_path: str, methods: list[str]) -> ASGIApp:
    """``handler`` as a bare ASGI app: 405 for a method it does not take, a raised
    :class:`Problem` as problem+json."""
    route = _RouteName(route_path)
    allowed = frozenset(methods)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        request = Request(scope, receive)
        try:
            if request.method not in allowed:
                raise MethodNotAllowed(
                    f"{request.method} is not allowed on this path.", headers={"Allow": ", ".join(methods)}
                )
            response = await handler(request)
        except Problem as exc:
            response = problem_as_response(exc, instance=request.url.path)
        await response(scope, receive, send)

    return app


class ApiFastPath:
    """Sends requests whose path starts with ``prefix`` down ``chain``, the rest on."""

    def __init__(self, app: ASGIApp, *, prefix: str, chain: ASGIApp) -> None:
        self.app = app
        self.prefix = prefix
        self.chain = chain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.chain(scope, receive, send)
        else:
            await self.app(scope, receive, send)
