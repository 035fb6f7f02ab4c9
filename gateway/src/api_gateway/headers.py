"""Which request and response headers cross the gateway."""

from __future__ import annotations

from collections.abc import Iterable

# RFC 9110 §7.6.1 connection-specific headers, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

# Headers a client could use to claim an identity or an origin; the gateway sets its own.
CLIENT_MAY_NOT_SEND = frozenset({"host", "forwarded", "x-real-ip", "x-request-id", "content-length"})
CLIENT_MAY_NOT_SEND_PREFIXES = ("x-forwarded-", "x-user", "x-principal", "x-agency", "x-auth")


def upstream_request_headers(
    client_headers: Iterable[tuple[str, str]], *, request_id: str, client_host: str | None
) -> list[tuple[str, str]]:
    """Client headers less hop-by-hop and identity headers, plus the gateway's own."""
    connection_named = set()
    pairs = list(client_headers)
    for name, value in pairs:
        if name.lower() == "connection":
            connection_named |= {v.strip().lower() for v in value.split(",")}
    out = []
    for name, value in pairs:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in CLIENT_MAY_NOT_SEND or lower in connection_named:
            continue
        if lower.startswith(CLIENT_MAY_NOT_SEND_PREFIXES):
            continue
        out.append((lower, value))
    out.append(("x-request-id", request_id))
    if client_host:
        out.append(("x-forwarded-for", client_host))
    return out


def client_response_headers(upstream_headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Upstream response headers less hop-by-hop ones, the upstream's server banner, and its
    ``Date`` (the gateway's server sends its own)."""
    return [
        (name, value)
        for name, value in upstream_headers
        if name.lower() not in HOP_BY_HOP and name.lower() not in {"server", "x-request-id", "date"}
    ]
