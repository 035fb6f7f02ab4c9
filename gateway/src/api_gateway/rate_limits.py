"""Per-client rate limits: each caller (issuer, agency and ``sub``) has its own budget
per route class, writes tighter than reads.

Counting is done by the ``limits`` library with a sliding-window counter, in this
process's memory by default, or in Redis when ``RATE_LIMIT_STORAGE_URL`` names one
(``async+redis://host:6379``) so that several gateway workers or replicas share one
budget per client. If Redis cannot be reached the request is let through and the
failure logged and counted: a referral about a child must not be refused because
the counter is down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from prometheus_client import Counter

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.problems import Problem

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

RATE_LIMITED = Counter(
    "gateway_rate_limited_total", "Requests refused with 429, by route class.", ["route_class"]
)
RATE_LIMIT_STORAGE_FAILURES = Counter(
    "gateway_rate_limit_storage_failures_total",
    "Requests let through because the rate-limit storage could not be reached.",
)


class RouteClass(StrEnum):
    read = "read"
    write = "write"
    calendar_feed = "calendar_feed"


def route_class(method: str) -> RouteClass:
    """Reads are safe methods; everything else changes something and counts as a write."""
    return RouteClass.read if method.upper() in READ_METHODS else RouteClass.write


def client_key(principal: Principal) -> tuple[str, str, str]:
    """Who is counted: the same ``sub`` at two agencies, or from two issuers, are two clients."""
    return principal.issuer, principal.agency, principal.sub


class TooManyRequests(Problem):
    """This client has made too many requests (writes are held tighter than reads); wait
    the seconds in `Retry-After`."""

    status, slug, title = 429, "rate-limited", "Too many requests"


def parse_limit(text: str) -> RateLimitItem:
    """``"120/minute"``, ``"10 per second"``... as the ``limits`` library reads them."""
    return parse(text)


@dataclass
class RateLimits:
    """The gateway's limits, checked once per authenticated request."""

    limiter: SlidingWindowCounterRateLimiter
    items: dict[RouteClass, RateLimitItem]

    @classmethod
    def from_strings(
        cls,
        *,
        storage_url: str,
        reads: str,
        writes: str,
        calendar_feeds: str = "60/minute",
        key_prefix: str = "gateway",
    ) -> RateLimits:
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        if not storage_url.startswith("async+memory"):
            options["key_prefix"] = key_prefix
        storage = storage_from_string(storage_url, **options)
        return cls(
            limiter=SlidingWindowCounterRateLimiter(storage),
            items={
                RouteClass.read: parse_limit(reads),
                RouteClass.write: parse_limit(writes),
                RouteClass.calendar_feed: parse_limit(calendar_feeds),
            },
        )

    async def check(self, principal: Principal, method: str) -> None:
        """Count this request against the caller's budget; 429 when it is spent."""
        kind = route_class(method)
        await self._hit(kind, kind.value, *client_key(principal))

    async def check_calendar_feed(self, path: str) -> None:
        """Count a calendar feed read (no caller to count it against) against that feed
        address's own budget, keyed by its hash so that no token is a storage key; 429
        when it is spent."""
        address = hashlib.sha256(path.encode()).hexdigest()
        await self._hit(RouteClass.calendar_feed, RouteClass.calendar_feed.value, address)

    async def _hit(self, kind: RouteClass, *keys: str) -> None:
        item = self.items[kind]
        try:
            if await self.limiter.hit(item, *keys):
                return
            stats = await self.limiter.get_window_stats(item, *keys)
        except StorageError:
            RATE_LIMIT_STORAGE_FAILURES.inc()
            log.warning("rate-limit storage unreachable; request let through", exc_info=True)
            return
        RATE_LIMITED.labels(kind.value).inc()
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        allowed = (
            f"This feed address may be read {item}"
            if kind is RouteClass.calendar_feed
            else f"This client may make {item} {kind.value} requests"
        )
        raise TooManyRequests(
            f"{allowed}; wait {retry_after} s before trying again.",
            headers={"Retry-After": str(retry_after)},
        )
