"""A background thread that announces overdue actions (``meeting.action_overdue``) while
the process runs: every ``every`` seconds, each open action past its due date (in
Europe/London) is announced once. Several processes on PostgreSQL skip each other's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from meetings_api.actions.service import announce_overdue_actions
from safeguarding_kit.background import repeating
from safeguarding_kit.db import Database
from safeguarding_kit.events import Outbox

LONDON = ZoneInfo("Europe/London")


def sweep_once(database: Database, outbox: Outbox) -> int:
    with database.sessions() as session:
        return announce_overdue_actions(session, outbox, datetime.now(LONDON).date())


@contextmanager
def overdue_sweeper(app: FastAPI, every: float) -> Iterator[None]:
    if every <= 0:
        yield
        return
    with repeating("overdue-actions", lambda: sweep_once(app.state.database, app.state.outbox), every):
        yield
