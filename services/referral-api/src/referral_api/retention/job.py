"""The disposal job: while the process runs, every ``DISPOSAL_INTERVAL_SECONDS`` (0: never)
it disposes of what is past the retention schedule and not held, as ``system:retention``.
Every worker and replica runs it; on PostgreSQL each record is locked while it goes, so
two runs at once dispose of it once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from referral_api.retention.disposal import RETENTION_JOB, dispose_due_records
from safeguarding_kit.background import repeating
from safeguarding_kit.db import Database, utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.retention.schedule import load_schedule


def dispose_once(database: Database, outbox: Outbox, schedule_file: Path | None) -> int:
    """One run of the job: how many records went."""
    schedule = load_schedule(schedule_file)
    with database.sessions() as session:
        disposed = dispose_due_records(
            session, schedule, utc_now(), dry_run=False, outbox=outbox, actor=RETENTION_JOB
        )
    return len(disposed)


@contextmanager
def disposal_job(app: FastAPI, schedule_file: Path | None, every: float) -> Iterator[None]:
    """The job's thread while the block runs (none when ``every`` is 0). The schedule is
    read first, so a schedule file that is not valid stops the process at start."""
    if every <= 0:
        yield
        return
    load_schedule(schedule_file)
    with repeating(
        "retention-disposal", lambda: dispose_once(app.state.database, app.state.outbox, schedule_file), every
    ):
        yield
