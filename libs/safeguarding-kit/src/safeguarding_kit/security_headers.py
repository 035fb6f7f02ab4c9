"""Headers on every answer that keep case records out of caches and stop browsers
guessing content types.

Answers hold children's case records, so nothing may be stored by a browser or a
shared cache unless the answer says otherwise (the figures for dashboards allow
``private, max-age=60``): ``Cache-Control: no-store`` is the default, never an
override. ``X-Content-Type-Options: nosniff`` stops a browser running a JSON or
text answer as a script or page. Plain ASGI, like the request-context middleware.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)


class SecurityHeadersMiddleware:
    """Adds each of :data:`DEFAULT_HEADERS` the answer does not already carry."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in DEFAULT_HEADERS if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
