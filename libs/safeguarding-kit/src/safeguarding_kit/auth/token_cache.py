"""Tokens already verified, remembered briefly: a partner system sends the same token on
every request, and checking its RS256 signature each time is most of an authenticated
request's cost at the gateway.

Only successes are kept, under a SHA-256 of the token (never the token itself), until
the token's own ``exp`` or ``seconds`` from now, whichever is sooner; the verifier sets
``seconds`` no longer than the JWKS cache lifetime, so a key removed at its issuer stops
working as soon as it would without this cache. Bounded: the oldest entries go first.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from safeguarding_kit.auth.principal import Principal


class VerifiedTokens:
    def __init__(
        self, seconds: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._seconds = seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str) -> Principal | None:
        """The principal of a token verified a moment ago, or None."""
        if self._seconds <= 0:
            return None
        key = self._key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, expires_at = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        return principal

    def put(self, token: str, principal: Principal, token_expires_at: float) -> None:
        if self._seconds <= 0:
            return
        expires_at = min(token_expires_at, self._clock() + self._seconds)
        self._entries[self._key(token)] = (principal, expires_at)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
