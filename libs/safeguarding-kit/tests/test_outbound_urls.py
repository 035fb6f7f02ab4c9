"""Server-side request forgery through a webhook URL: the platform calls only https
URLs whose host has nothing but public addresses."""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

import pytest

from safeguarding_kit import outbound_urls
from safeguarding_kit.outbound_urls import UnsafeUrl, check_outbound_url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://localhost:8101/internal/events", "not a public address"),
        ("https://[::1]/hook", "not a public address"),
        ("https://[::ffff:127.0.0.1]/hook", "not a public address"),
        ("https://10.0.0.5/hook", "not a public address"),
        ("https://172.16.4.4/hook", "not a public address"),
        ("https://192.168.1.1/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data/", "not a public address"),  # cloud metadata
        ("https://100.64.0.1/hook", "not a public address"),  # carrier-grade NAT
        ("https://0.0.0.0/hook", "not a public address"),
        ("https://2130706433/hook", "not a public address"),  # 127.0.0.1 as one number
        ("http://93.184.216.34/hook", "only https"),
        ("ftp://93.184.216.34/hook", "only https"),
        ("file:///etc/passwd", "only https"),
        ("https://user:pw@93.184.216.34/hook", "credentials"),
    ],
)
def test_urls_into_the_platforms_own_network_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        check_outbound_url(url)


def test_a_public_https_address_is_accepted() -> None:
    check_outbound_url("https://93.184.216.34/hooks/safeguarding")


def test_development_may_allow_a_receiver_on_this_machine() -> None:
    check_outbound_url("http://127.0.0.1:9000/hook", private_addresses_allowed=True)
    with pytest.raises(UnsafeUrl, match="only https"):
        check_outbound_url("gopher://127.0.0.1/", private_addresses_allowed=True)


def test_a_host_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*_: Any, **__: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(UnsafeUrl, match="cannot be resolved"):
        check_outbound_url("https://no-such-host.invalid/hook")


def test_a_host_whose_resolver_does_not_answer_in_time_is_refused_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A resolver that has lost the query answers after its own 5 s timeout, or never: the
    # request registering the webhook would outlast the gateway's timeout (a 504 for input).
    answered = threading.Event()

    def silent_resolver(*_: Any, **__: Any) -> Any:
        answered.wait(timeout=10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    try:
        with pytest.raises(UnsafeUrl, match="could not be resolved in time"):
            check_outbound_url("https://hooks.partner.example/safeguarding", resolve_timeout=0.05)
    finally:
        answered.set()


def test_the_check_gives_the_address_to_connect_to_the_first_of_those_it_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The caller connects to this address, not to the name: a name resolved again when
    # connecting could answer a private address by then (DNS rebinding).
    answers = [
        ipaddress.ip_address("93.184.215.14"),
        ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"),
    ]
    lookups: list[tuple[str, int]] = []

    def resolve(host: str, port: int, **_: object) -> list[outbound_urls.IpAddress]:
        lookups.append((host, port))
        return answers

    monkeypatch.setattr(outbound_urls, "resolved_addresses", resolve)
    assert check_outbound_url("https://hooks.partner.example:8443/hook") == answers[0]
    assert lookups == [("hooks.partner.example", 8443)]
    monkeypatch.undo()  # a literal address is its own answer
    assert check_outbound_url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook") == answers[1]


def test_a_host_with_no_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbound_urls, "resolved_addresses", lambda host, port, **_: [])
    with pytest.raises(UnsafeUrl, match="cannot be resolved"):
        check_outbound_url("https://hooks.partner.example/hook")


def test_nothing_is_resolved_or_given_when_private_addresses_are_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def resolve(*_: object, **__: object) -> list[outbound_urls.IpAddress]:
        raise AssertionError("resolved")

    monkeypatch.setattr(outbound_urls, "resolved_addresses", resolve)
    assert check_outbound_url("http://localhost:9000/hook", private_addresses_allowed=True) is None
