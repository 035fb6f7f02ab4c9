"""Whether a URL given by a caller is safe for the platform to call (webhooks).

A partner's webhook URL is fetched from inside the platform's network, so a URL
naming loopback, a private range, link-local (cloud metadata at 169.254.169.254),
carrier-grade NAT or any other non-global address would let a caller make the
platform probe or attack its own network (server-side request forgery). Every
address the host resolves to must be global. The check runs when the URL is
registered and again before each delivery, so a name re-pointed at a private
address later is refused too; and it gives the delivery the address to connect to,
since a name resolved a second time when connecting could answer a private address
then (DNS rebinding). An IPv6 address that carries an IPv4 address (6to4,
NAT64, IPv4-compatible or -translated, Teredo) is judged by that IPv4 address too,
since a relay or translator on the way would deliver to it.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose last 32 bits are an IPv4 address a translator or relay would reach.
_IPV4_IN_LAST_32_BITS = (
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, RFC 4291)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 7915)
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052)
)
# NAT64 local-use prefix (RFC 8215): never globally routable, whatever it embeds.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


class UnsafeUrl(ValueError):
    """The URL may not be called from the platform; the message says why."""


def is_public_address(address: IpAddress) -> bool:
    """True when ``address`` is global, and so is any IPv4 address it carries."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address in _NAT64_LOCAL_USE:
        return False
    carried: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        carried.append(address.sixtofour)
    if address.teredo is not None:
        carried.extend(address.teredo)
    if any(address in network for network in _IPV4_IN_LAST_32_BITS):
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return all(ipv4.is_global for ipv4 in carried)


# The resolver's own timeout is 5 s a try (glibc), more than a request should wait: a
# registration whose host does not resolve in time is refused like one that does not resolve.
RESOLVE_TIMEOUT_SECONDS = 2.0
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve-url-host")


def resolved_addresses(host: str, port: int, *, timeout: float = RESOLVE_TIMEOUT_SECONDS) -> list[IpAddress]:
    """Every address ``host`` resolves to; :class:`UnsafeUrl` when it does not resolve, or
    not within ``timeout`` seconds."""
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=timeout)
    except FutureTimeout as exc:
        raise UnsafeUrl(f"the host {host!r} could not be resolved in time") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"the host {host!r} cannot be resolved") from exc
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses


def check_outbound_url(
    url: str, *, private_addresses_allowed: bool = False, resolve_timeout: float = RESOLVE_TIMEOUT_SECONDS
) -> IpAddress | None:
    """Raise :class:`UnsafeUrl` unless ``url`` is https to a host with only global addresses;
    return the address to connect to, the first the host resolved to (all were checked).

    Connect to that address, not to the name: resolving the name again could answer an
    address that was never checked. ``private_addresses_allowed`` (development and tests
    only) lets plain http and local addresses through, for a receiver on the same machine;
    nothing is resolved then, and None returned.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"}:
        raise UnsafeUrl("only https URLs are accepted")
    if parts.username or parts.password:
        raise UnsafeUrl("credentials in the URL are not accepted; use the signing secret")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if private_addresses_allowed:
        return None
    if parts.scheme != "https":
        raise UnsafeUrl("only https URLs are accepted")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UnsafeUrl("the URL's port is not a number from 1 to 65535") from exc
    addresses = resolved_addresses(parts.hostname, port, timeout=resolve_timeout)
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeUrl(
                f"the host {parts.hostname!r} resolves to {address}, which is not a public address"
            )
    if not addresses:
        raise UnsafeUrl(f"the host {parts.hostname!r} cannot be resolved")
    return addresses[0]
