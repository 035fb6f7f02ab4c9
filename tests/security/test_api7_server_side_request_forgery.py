"""OWASP API7:2023 Server-side request forgery: a partner webhook URL pointing the
platform at itself, its network or the cloud metadata service, in every spelling an
address has (decimal, octal, hex, IPv4 inside IPv6, credentials before the host), or
with a scheme other than https. Registration is refused (422 naming `url`) before any
connection is made, at the referral service and at the risk service; a delivery is
checked again before it is sent.

No test here sends traffic anywhere but loopback, and no name is looked up over the
network: every URL names an IP literal or `localhost`.
libs/safeguarding-kit/tests/test_outbound_urls.py unit-tests the check itself; this
module attacks the endpoints that use it, and the IPv6 forms it did not cover.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from owasp_scenarios import webhook_delivery_row

from safeguarding_kit.events import deliver
from safeguarding_kit.outbound_urls import UnsafeUrl, check_outbound_url

pytestmark = pytest.mark.e2e

REGISTRATIONS = {
    "referral service": ("/api/v1/webhooks/referral-service/endpoints", "referral.received"),
    "risk service": ("/api/v1/webhooks/risk-service/endpoints", "risk.assessed"),
}

UNSAFE_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost/hook",
    "https://localhost/hook",
    "https://localhost:8101/internal/events",
    "https://127.0.0.1/hook",
    "https://127.1/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one decimal number
    "https://0177.0.0.1/hook",  # octal
    "https://0x7f.0.0.1/hook",  # hex
    "https://0x7f000001/hook",
    "https://0.0.0.0/hook",
    "https://10.0.0.1/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://169.254.169.254:443/computeMetadata/v1/",
    "https://[::1]/hook",
    "https://[::]/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:a9fe:a9fe]/latest/meta-data/",  # 169.254.169.254, mapped
    "https://[::127.0.0.1]/hook",  # IPv4-compatible (deprecated)
    "https://[::ffff:0:7f00:1]/hook",  # IPv4-translated (SIIT)
    "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the metadata address
    "https://[64:ff9b:1::a00:1]/hook",  # NAT64 local-use prefix
    "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "https://[2002:a9fe:a9fe::1]/hook",  # 6to4 of 169.254.169.254
    "https://[fd00::1]/hook",  # unique local
    "https://[fe80::1]/hook",  # link-local
    "https://example.org@127.0.0.1/hook",  # credentials before the real host
    "https://example.org:pw@169.254.169.254/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://127.0.0.1/",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
@pytest.mark.parametrize("service", sorted(REGISTRATIONS))
def test_a_webhook_url_into_the_platforms_own_network_is_refused(gateway, as_, problem, service, url):
    path, event_type = REGISTRATIONS[service]
    answer = gateway.post(path, headers=as_("charity admin"), json={"url": url, "event_types": [event_type]})
    refused = problem(answer, 422)
    assert [e.get("pointer") for e in refused["errors"]] == ["#/url"], refused


@pytest.fixture
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A TCP port on loopback that counts who connects to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server.getsockname()[1], server
    server.close()


def connections(server: socket.socket) -> int:
    time.sleep(0.2)
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.mark.parametrize("service", sorted(REGISTRATIONS))
def test_registration_is_refused_before_any_connection_is_made_and_nothing_is_stored(
    gateway, as_, problem, listener, service
):
    port, server = listener
    path, event_type = REGISTRATIONS[service]
    admin = as_("charity admin")
    urls = [
        f"https://127.0.0.1:{port}/hook",
        f"http://127.0.0.1:{port}/hook",
        f"https://localhost:{port}/hook",
        f"https://[::ffff:127.0.0.1]:{port}/hook",
        f"https://user@127.0.0.1:{port}/hook",
    ]
    for url in urls:
        problem(gateway.post(path, headers=admin, json={"url": url, "event_types": [event_type]}), 422)
    assert connections(server) == 0, "the platform connected to a URL it was refusing"
    stored = {e["url"] for e in gateway.get(path, headers=admin, params={"limit": 100}).json()["items"]}
    assert not any(str(port) in url for url in stored)


def test_a_delivery_is_checked_again_and_never_sent_to_a_private_address(listener):
    """An endpoint registered while its name pointed at a public address, re-pointed since."""
    port, server = listener
    row = webhook_delivery_row(f"https://127.0.0.1:{port}/hook")
    with httpx.Client(timeout=2, follow_redirects=False) as client:
        outcome = deliver(client, "unused", row, private_addresses_allowed=False)
    assert outcome is not None
    assert outcome.reason.startswith("refused:"), outcome
    assert connections(server) == 0


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",
        "::ffff:0:7f00:1",
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b:1::5db8:d822",
        "2002:7f00:1::",
        "2002:c0a8:101::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_ipv6_addresses_carrying_a_private_ipv4_address_are_refused(address):
    with pytest.raises(UnsafeUrl, match="not a public address"):
        check_outbound_url(f"https://[{address}]/hook")


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://[2002:5db8:d822::1]/",
    ],
)
def test_public_addresses_stay_allowed(url):
    check_outbound_url(url)  # 6to4 of a public IPv4 address too: the check is not "refuse all IPv6"
