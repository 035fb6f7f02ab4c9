"""Server-side request forgery through a webhook URL: the platform calls only https
URLs whose host has nothing but public addresses."""

from __future__ import annotations

import pytest

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
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
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
