"""A short circuit breaker per service: after a run of failed connections the gateway
answers 503 at once (no waiting on timeouts) until a cool-down passes; then one trial
request goes through, and a success closes the circuit again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    reset_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _trial_in_flight: bool = field(default=False, init=False)

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """True when a request may go to the service now."""
        if self._opened_at is None:
            return True
        if self.clock() - self._opened_at >= self.reset_seconds and not self._trial_in_flight:
            self._trial_in_flight = True  # half-open: one request tries the service
            return True
        return False

    def retry_after(self) -> int:
        """Seconds until a trial request will be let through."""
        if self._opened_at is None:
            return 0
        return max(1, int(self.reset_seconds - (self.clock() - self._opened_at)) + 1)

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def abandon_trial(self) -> None:
        """The trial request ended with no verdict on the service (the caller went away):
        the next request after the cool-down may try again."""
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_in_flight = False
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self.clock()
