"""How long an idle HTTP connection between the platform's processes stays open.

A server that closes an idle keep-alive connection at the moment its client sends the next
request on it resets that request ("Connection reset by peer"), and the client cannot tell
whether it was acted on: the gateway must answer a POST without an Idempotency-Key 502.
With uvicorn's default (5 s) and httpx's (5 s) the two timers run out together. So the
platform's servers keep an idle connection well past the time its clients keep one in
their pools, and the clients let go of it first; the clients' time is also under the 5 s
that uvicorn and Node.js servers default to, for the partner systems the relay calls. The
servers' time is over the 60 s that load balancers and ingress controllers (ingress-nginx,
AWS's ALB) keep an idle connection to a backend, for the gateway behind one."""

from __future__ import annotations

import httpx

SERVER_KEEP_ALIVE_SECONDS = 75
CLIENT_KEEPALIVE_EXPIRY_SECONDS = 4.0


def pool_limits(max_connections: int = 100, *, max_idle: int | None = None) -> httpx.Limits:
    """Limits for a long-lived client's pool: at most ``max_connections`` open (httpx's
    default), ``max_idle`` of them kept between requests (default: as many), and none kept
    idle for as long as a server may keep it."""
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_idle if max_idle is not None else max_connections,
        keepalive_expiry=CLIENT_KEEPALIVE_EXPIRY_SECONDS,
    )
