"""Asking each replica of a service whether it is ready, in the background.

For every service with more than one replica, a task asks each replica's ``/readyz``
every ``UPSTREAM_HEALTH_INTERVAL_SECONDS`` (and at once when a request to one of them
failed, or it answered 502 or 503): 200 puts the replica in rotation, anything else
(another status, no answer within the connect and read bounds) takes it out
(``replicas.py``). A service with one replica is not asked: there is no other replica to
send its requests to, and its circuit breaker already fails it fast while it is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import httpx

from api_gateway.replicas import Replica, ReplicaPool

log = logging.getLogger(__name__)


async def is_ready(client: httpx.AsyncClient, replica: Replica, probe_seconds: float) -> bool:
    """True when the replica's ``/readyz`` answers 200 within ``probe_seconds``."""
    try:
        response = await client.get(replica.url + "/readyz", timeout=probe_seconds)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def check_pool(pool: ReplicaPool, client: httpx.AsyncClient, probe_seconds: float) -> None:
    """Ask every replica of ``pool`` at once, and put each in or out of rotation."""
    answers = await asyncio.gather(*(is_ready(client, replica, probe_seconds) for replica in pool.replicas))
    for replica, ready in zip(pool.replicas, answers, strict=True):
        pool.readiness(replica, ready)


async def watch_pool(
    pool: ReplicaPool, client: Callable[[], httpx.AsyncClient], *, every: float, probe_seconds: float
) -> None:
    """Check ``pool`` every ``every`` seconds, or sooner when a request has made a replica
    suspect (but not more often than every quarter interval), until cancelled. Replicas start
    in rotation: one found dead by the first request to it is taken out then."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pool.check_now.wait(), timeout=every)
            await asyncio.sleep(every / 4)  # woken early: a burst of failures asks once, not per failure
        pool.check_now.clear()
        try:
            await check_pool(pool, client(), probe_seconds)
        except Exception:  # a failed round must not end the checks
            log.exception("replica health check failed", extra={"upstream": pool.upstream.value})


@asynccontextmanager
async def replica_health_checks(
    pools: Iterable[ReplicaPool],
    client: Callable[[], httpx.AsyncClient],
    *,
    every: float,
    probe_seconds: float,
) -> AsyncIterator[None]:
    """Watch every pool that has several replicas while the block runs. ``client`` is
    asked for the HTTP client at each round (the app's, which tests may replace)."""
    tasks = [
        asyncio.create_task(
            watch_pool(pool, client, every=every, probe_seconds=probe_seconds), name=pool.upstream.value
        )
        for pool in pools
        if pool.several
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
