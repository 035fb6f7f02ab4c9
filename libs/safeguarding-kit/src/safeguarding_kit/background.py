"""Work a process repeats while it runs (the outbox relay, the overdue-action sweep):
one daemon thread per loop, stopped when the process shuts down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Pulse:
    """When a loop last finished a cycle, failed ones included: a loop that has not for far
    longer than a cycle can take is stuck (a liveness check), where one whose cycles fail
    is alive and waiting for what it needs (a readiness matter)."""

    last: float = field(default_factory=time.monotonic)

    def beat(self) -> None:
        self.last = time.monotonic()

    def beaten_within(self, seconds: float) -> bool:
        return time.monotonic() - self.last <= seconds


@contextmanager
def repeating(
    name: str, cycle: Callable[[], object], every: float, *, at_start: bool = False
) -> Iterator[Pulse]:
    """Run ``cycle`` in a thread called ``name`` every ``every`` seconds while the block
    runs (first straight away when ``at_start``). A cycle that raises is logged and the
    next one runs: a database that is down for a while must not end the loop. The block
    gets the loop's :class:`Pulse`."""
    stop = threading.Event()
    pulse = Pulse()

    def run_cycle() -> None:
        try:
            cycle()
        except Exception:
            log.exception("%s: cycle failed", name)
        finally:
            pulse.beat()

    def loop() -> None:
        if at_start:
            run_cycle()
        while not stop.wait(every):
            run_cycle()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield pulse
    finally:
        stop.set()
        thread.join(timeout=5)
