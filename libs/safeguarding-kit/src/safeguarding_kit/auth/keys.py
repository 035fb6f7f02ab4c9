"""Where an issuer's public keys come from: a PEM key, or a JWKS URL with a cache.

The JWKS cache is written for the failure modes PyJWT's ``PyJWKClient`` has: its
keys have a bounded lifetime (a key removed at the issuer stops working once it
passes), a failed refresh keeps the last good keys (an issuer that is down after
warm-up does not stop valid tokens), an unknown ``kid`` triggers at most one fetch
per ``min_refetch_seconds`` (a flood of random ``kid``s cannot hammer the issuer),
and the fetch is asynchronous (it never stalls the event loop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

log = logging.getLogger(__name__)

VerificationKey = Any  # a cryptography public key or a jwt.PyJWK


class KeyNotFound(Exception):
    """No key of this issuer matches the token's ``kid``."""


class KeySource(Protocol):
    async def key_for(self, kid: str | None) -> VerificationKey: ...


class StaticKeySource:
    """A single PEM public key, given inline or as a file read on first use."""

    def __init__(self, pem: str | None = None, path: Path | None = None) -> None:
        self._pem = pem
        self._path = path
        self._key: VerificationKey | None = None

    async def key_for(self, kid: str | None) -> VerificationKey:
        if self._key is None:
            if self._pem is not None:
                data = self._pem.encode()
            elif self._path is not None:
                try:
                    data = self._path.read_bytes()
                except FileNotFoundError as exc:
                    raise KeyNotFound(f"public key file {self._path} does not exist") from exc
            else:  # pragma: no cover - IssuerConfig guarantees one source
                raise KeyNotFound("no key configured")
            self._key = serialization.load_pem_public_key(data)
        return self._key


class JwksKeySource:
    """Keys from an issuer's JWKS URL, cached with a lifetime and a refetch floor."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient,
        cache_seconds: float = 300.0,
        min_refetch_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._cache_seconds = cache_seconds
        self._min_refetch_seconds = min_refetch_seconds
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    def _fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self._cache_seconds

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refetch_seconds

    async def key_for(self, kid: str | None) -> VerificationKey:
        now = self._clock()
        if self._fresh(now) and self._lookup(kid) is not None:
            return self._lookup(kid)
        async with self._lock:
            now = self._clock()
            # Another waiter may have refreshed while we queued for the lock.
            if not (self._fresh(now) and self._lookup(kid) is not None) and self._may_fetch(now):
                await self._refresh(now)
        key = self._lookup(kid)
        if key is None:
            raise KeyNotFound(f"no key with kid {kid!r} at {self._url}")
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # A token without kid is only acceptable when the set has exactly one key.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self, now: float) -> None:
        self._attempted_at = now
        self.fetch_count += 1
        try:
            response = await self._client.get(self._url, follow_redirects=False)
            response.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # Keep the last good keys: an issuer outage must not lock everyone out.
            log.warning("jwks refresh failed", extra={"jwks_url": self._url, "error": type(exc).__name__})
            return
        self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
        if not self._keys and len(keyset.keys) == 1:
            self._keys = {"": keyset.keys[0]}
        self._fetched_at = now
