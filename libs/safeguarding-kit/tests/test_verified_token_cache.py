"""A verified token is remembered briefly, never past its expiry or the cache lifetime,
and a refused token is never remembered."""

from __future__ import annotations

from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.auth.token_cache import VerifiedTokens

OFFICER = Principal(sub="pc-1234", agency="south-yorkshire-police", agency_type=AgencyType.police)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_remembered_for_the_cache_lifetime_only():
    clock = Clock()
    cache = VerifiedTokens(30, clock=clock)
    cache.put("token-a", OFFICER, token_expires_at=clock.now + 3600)
    clock.now += 29
    assert cache.get("token-a") == OFFICER
    clock.now += 1
    assert cache.get("token-a") is None


def test_a_token_is_never_remembered_past_its_own_expiry():
    clock = Clock()
    cache = VerifiedTokens(30, clock=clock)
    cache.put("token-a", OFFICER, token_expires_at=clock.now + 5)
    clock.now += 5
    assert cache.get("token-a") is None


def test_the_cache_is_bounded_and_forgets_the_oldest_first():
    cache = VerifiedTokens(30, max_entries=2)
    for token in ("a", "b", "c"):
        cache.put(token, OFFICER, token_expires_at=10**10)
    assert cache.get("a") is None
    assert cache.get("c") == OFFICER


def test_a_zero_lifetime_turns_the_cache_off():
    cache = VerifiedTokens(0)
    cache.put("a", OFFICER, token_expires_at=10**10)
    assert cache.get("a") is None
