"""Whether a URL given by a caller is safe for the platform to call (webhooks).

A partner's webhook URL is fetched from inside the platform's network, so a URL
naming loopback, a private range, link-local (cloud metadata at 169.254.169.254),
carrier-grade NAT or any other non-global address would let a caller make the
platform probe or attack its own network (server-side request forgery). Every
address the host resolves to must be global. The check runs when the URL is
registered and again before each delivery, so a name re-pointed at a private
address later is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """The URL may not be called from the platform; the message says why."""


def resolved_addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} cannot be resolved") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


def check_outbound_url(url: str, *, private_addresses_allowed: bool = False) -> None:
    """Raise :class:`UnsafeUrl` unless ``url`` is https to a host with only global addresses.

    ``private_addresses_allowed`` (development and tests only) lets plain http and
    local addresses through, for a receiver on the same machine.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"}:
        raise UnsafeUrl("only https URLs are accepted")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not accepted; use the signing secret")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if private_addresses_allowed:
        return
    if parts.scheme != "https":
        raise UnsafeUrl("only https URLs are accepted")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UnsafeUrl("the URL's port is not a number from 1 to 65535") from exc
    for address in resolved_addresses(parts.hostname, port):
        if not address.is_global:
            raise UnsafeUrl(
                f"the host {parts.hostname!r} resolves to {address}, which is not a public address"
            )
