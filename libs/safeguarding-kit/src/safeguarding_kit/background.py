"""Work a process repeats while it runs (the outbox relay, the overdue-action sweep):
one daemon thread per loop, stopped when the process shuts down."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def repeating(
    name: str, cycle: Callable[[], object], every: float, *, at_start: bool = False
) -> Iterator[None]:
    """Run ``cycle`` in a thread called ``name`` every ``every`` seconds while the block
    runs (first straight away when ``at_start``). A cycle that raises is logged and the
    next one runs: a database that is down for a while must not end the loop."""
    stop = threading.Event()

    def run_cycle() -> None:
        try:
            cycle()
        except Exception:
            log.exception("%s: cycle failed", name)

    def loop() -> None:
        if at_start:
            run_cycle()
        while not stop.wait(every):
            run_cycle()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
