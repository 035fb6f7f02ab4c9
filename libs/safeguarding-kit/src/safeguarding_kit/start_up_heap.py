"""A served process's start-up objects kept out of the garbage collector's full collections.

A service makes most of its long-lived objects while it starts: modules, the app and its
routes, pydantic's validators, SQLAlchemy's tables and compiled statements. CPython's full
collection (its oldest generation) walks every one of them each time it runs, and every
request of the process waits meanwhile. Under ``bench/referrals.py`` a full collection took
up to 136 ms in the referral service and 102 ms in the risk service: a referral's p99 was
those pauses (118 ms, at a p50 of 30 ms). :func:`gc.freeze` moves everything alive at the
end of start-up into a permanent generation the collector ignores (the Python
documentation's advice for servers); collected first, so no start-up garbage is kept. In
the same run afterwards: p99 53 ms, a full collection a few milliseconds.

Only processes started by :func:`safeguarding_kit.cli.serve` freeze (it marks them, and its
worker processes, through the environment): a test run starts hundreds of apps in one
process, and would keep whatever was alive at each start for good.
"""

from __future__ import annotations

import gc
import os

SERVED_PROCESS_ENV = "SAFEGUARDING_SERVED_PROCESS"


def mark_served_process() -> None:
    """This process (and the worker processes it starts) serves requests until it stops."""
    os.environ[SERVED_PROCESS_ENV] = "1"


def freeze_start_up_objects() -> bool:
    """At the end of a served process's start-up: collect, then freeze what is left. True
    if it did (a served process), False otherwise."""
    if os.environ.get(SERVED_PROCESS_ENV) != "1":
        return False
    gc.collect()
    gc.freeze()
    return True
