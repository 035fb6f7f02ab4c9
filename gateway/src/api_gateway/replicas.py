"""The replicas of one service, and which of them takes the next request.

A service may run as several replicas (``REFERRAL_API_URLS=http://a:8101,http://b:8101``).
Each request goes to the replica with the fewest requests in flight from this gateway
process, ties taken in turn (round robin), so that a replica busy with a slow answer (an
agenda, an impact analysis) is passed over while it works.

A replica is *out* of rotation while it is not known to be ready:

- at once when a connection to it cannot be made (a stopped process, a refused port),
  as long as another replica is in rotation to take its requests;
- when its ``/readyz`` does not answer 200 (``replica_health.py`` asks every replica in
  the background, and at once about one that answered 502 or 503, timed out or broke an
  answer: a 503 may be the replica's own database being out of reach, or only a service
  behind it, as the meetings service's agenda answers when the risk service is down, so
  its readiness decides, not the one answer);

and back in when its ``/readyz`` answers 200 again. A replica out of rotation is still
tried when no replica is in rotation: the gateway then does what it did with one replica,
rather than refuse a request a replica might serve.

Each replica has its own circuit breaker (``breaker.py``): after a run of failures it is
failed fast for a cool-down, then one trial request goes through. The service is failed
fast (503 at once) only when every replica's breaker is open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from prometheus_client import Gauge

from api_gateway.breaker import CircuitBreaker
from api_gateway.routing import Upstream

log = logging.getLogger(__name__)

REPLICA_IN_ROTATION = Gauge(
    "gateway_upstream_replica_in_rotation",
    "1 while a service replica takes requests from this gateway process, 0 while it is out.",
    ["upstream", "replica"],
)
# Answers after which the replica's own readiness is asked at once.
SUSPECT_STATUSES = frozenset({502, 503})


@dataclass(eq=False)
class Replica:
    """One replica of a service: where it is, whether it is in rotation, and how many of
    this process's requests it is answering now."""

    url: str
    breaker: CircuitBreaker
    in_rotation: bool = True
    outstanding: int = 0
    last_chosen: int = 0  # when it last took a request, in choices made by its pool


@dataclass(eq=False)
class Lease:
    """One request's hold on a replica, counted in its ``outstanding`` until released
    (once, however many times ``release`` is called: a streamed answer may end twice)."""

    replica: Replica
    _released: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.replica.outstanding += 1

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.replica.outstanding -= 1


class ReplicaPool:
    """The replicas of one service, as one gateway process sees them."""

    def __init__(
        self,
        upstream: Upstream,
        urls: Sequence[str],
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError(f"{upstream.value}: at least one replica URL is needed")
        self.upstream = upstream
        self.replicas = tuple(
            # None chosen yet: taken first to last, in the order given.
            Replica(
                url.rstrip("/"),
                CircuitBreaker(failure_threshold, reset_seconds, clock),
                last_chosen=n - len(urls),
            )
            for n, url in enumerate(urls)
        )
        self._choices = 0
        # Set when a replica's readiness should be asked now rather than at the next round.
        self.check_now = asyncio.Event()
        for replica in self.replicas:
            REPLICA_IN_ROTATION.labels(upstream.value, replica.url).set(1)

    @property
    def several(self) -> bool:
        return len(self.replicas) > 1

    def choose(self, tried: Collection[Replica] = ()) -> Replica | None:
        """The replica for the next try of a request that already went to ``tried``: in
        rotation before out of it, not yet tried before tried, fewest in flight first, then
        the one that has waited longest (in turn). None when every replica is failing fast."""
        order = sorted(
            self.replicas,
            key=lambda r: (not r.in_rotation, r in tried, r.outstanding, r.last_chosen),
        )
        for replica in order:
            if replica.breaker.allow():
                self._choices += 1
                replica.last_chosen = self._choices
                return replica
        return None

    def retry_after(self) -> int:
        """Seconds until some replica will take a trial request."""
        return min(replica.breaker.retry_after() for replica in self.replicas)

    def answered(self, replica: Replica, status: int) -> None:
        """The replica answered: it is reachable. A 502 or 503 has its readiness asked now."""
        replica.breaker.record_success()
        if status in SUSPECT_STATUSES:
            self.suspect(replica)

    def could_not_connect(self, replica: Replica) -> None:
        """Nothing reached the replica: out of rotation at once while another one is in."""
        replica.breaker.record_failure()
        if replica.in_rotation and any(r.in_rotation for r in self.replicas if r is not replica):
            self._set_in_rotation(replica, False, "could not connect")
        self.suspect(replica)

    def failed(self, replica: Replica) -> None:
        """The replica timed out or broke its answer: a failure for its breaker, and its
        readiness asked now."""
        replica.breaker.record_failure()
        self.suspect(replica)

    def abandoned(self, replica: Replica) -> None:
        """The request ended with no verdict on the replica (its caller went away)."""
        replica.breaker.abandon_trial()

    def readiness(self, replica: Replica, ready: bool) -> None:
        """What the replica's ``/readyz`` said: ready puts it back in rotation (and closes
        its breaker: it need not wait out a cool-down), not ready takes it out."""
        if ready and replica.breaker.is_open:
            replica.breaker.record_success()
        if ready != replica.in_rotation:
            self._set_in_rotation(replica, ready, "ready" if ready else "not ready")

    def suspect(self, replica: Replica) -> None:
        """Something went wrong with ``replica``: have every replica's readiness asked now
        rather than at the next round (a service with one replica is not asked)."""
        if self.several:
            self.check_now.set()

    def _set_in_rotation(self, replica: Replica, in_rotation: bool, why: str) -> None:
        replica.in_rotation = in_rotation
        REPLICA_IN_ROTATION.labels(self.upstream.value, replica.url).set(1 if in_rotation else 0)
        log.log(
            logging.INFO if in_rotation else logging.WARNING,
            "replica back in rotation" if in_rotation else "replica taken out of rotation",
            extra={"upstream": self.upstream.value, "replica": replica.url, "reason": why},
        )
