"""The meetings service's retention job: while the process runs, every
``disposal_interval_seconds`` (and once at start), the minutes of meetings past the
retention schedule's period go (:func:`meetings_api.disposal.minutes.dispose_expired_minutes`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from meetings_api.disposal.minutes import MinutesDisposal, dispose_expired_minutes
from safeguarding_kit.background import repeating
from safeguarding_kit.db import Database, utc_now
from safeguarding_kit.retention.schedule import RetentionSchedule

log = logging.getLogger(__name__)


def dispose_once(database: Database, schedule: RetentionSchedule) -> list[MinutesDisposal]:
    """One run of the job, in a session of its own: the meetings whose minutes went."""
    with database.sessions() as session:
        disposed = dispose_expired_minutes(session, schedule, utc_now(), dry_run=False)
    if disposed:
        log.info("disposed of the minutes of %d meetings under schedule %s", len(disposed), schedule.version)
    return disposed


@contextmanager
def minutes_disposal(app: FastAPI, every: float, schedule: RetentionSchedule) -> Iterator[None]:
    """Run the job every ``every`` seconds while the block runs (0: never)."""
    if every <= 0:
        yield
        return
    # At start too: a process restarted more often than the interval would otherwise never run it.
    with repeating(
        "minutes-disposal", lambda: dispose_once(app.state.database, schedule), every, at_start=True
    ):
        yield
