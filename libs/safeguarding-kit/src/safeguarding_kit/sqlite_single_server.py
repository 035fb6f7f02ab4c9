"""A SQLite database is served by one process.

SQLite has no row locks: the outbox relay's ``FOR UPDATE SKIP LOCKED`` is left out there,
so two processes' relays could both send a pending delivery, and every write of every
process would queue on the one file lock. ``WORKERS`` > 1 on SQLite is refused by the
settings; this refuses the other way to get there, a second ``serve`` started by hand on
the same file (a second replica), by holding an exclusive lock on ``<file>.serving`` for
as long as the process serves it. The operating system lets go of the lock when the
process ends, however it ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


class SQLiteAlreadyServed(RuntimeError):
    """Another process is serving this SQLite database."""


@contextmanager
def sole_server(database_url: str) -> Iterator[None]:
    """Hold the serving lock of a SQLite database file while the block runs (nothing for
    other databases); :class:`SQLiteAlreadyServed` when another process holds it."""
    url = make_url(database_url)
    file = url.database
    if not url.drivername.startswith("sqlite") or not file or file == ":memory:" or sys.platform == "win32":
        yield
        return
    import fcntl

    lock_path = Path(file).with_name(Path(file).name + ".serving")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SQLiteAlreadyServed(
                f"another process is already serving the SQLite database {file}: a SQLite database is "
                "served by one process. Stop it, or run several replicas on PostgreSQL "
                "(DATABASE_URL=postgresql://...)"
            ) from exc
        yield
