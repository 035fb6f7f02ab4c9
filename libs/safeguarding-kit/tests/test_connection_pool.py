"""A service's database connections: opened as its load needs them, never more than its
pool's size, and each one kept once opened. A new PostgreSQL connection is a new server
process; a pool that opens and closes them under load (as SQLAlchemy's overflow does) spent
more of the server's CPU on them than on the reads it served."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from safeguarding_kit.db import Database, create_db_engine
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.throwaway_database import provisioned_database

POOL = 4
REQUESTS_AT_ONCE = 12  # more than the pool holds: as a service's 40 endpoint threads can be
TRANSACTIONS_EACH = 25


def test_more_requests_at_once_than_the_pool_holds_open_each_connection_once(tmp_path: Path) -> None:
    with provisioned_database("pool", tmp_path) as url:
        engine = create_db_engine(url, pool_size=POOL)
        opened: list[Any] = []
        event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
        start = threading.Barrier(REQUESTS_AT_ONCE)
        failures: list[BaseException] = []

        def requests_one_after_another() -> None:
            try:
                start.wait()
                for _ in range(TRANSACTIONS_EACH):
                    with engine.begin() as connection:
                        connection.execute(text("SELECT 1"))
                        time.sleep(0.002)  # holds it a moment, as a request does
            except BaseException as exc:  # reported below, not lost in the thread
                failures.append(exc)

        threads = [threading.Thread(target=requests_one_after_another) for _ in range(REQUESTS_AT_ONCE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine.dispose()

    assert failures == []
    # Every request was served (each waited its turn for a connection), on at most POOL
    # connections, none of them opened twice.
    assert 1 <= len(opened) <= POOL


def test_a_service_keeps_as_many_connections_as_database_pool_size_says(tmp_path: Path) -> None:
    settings = DatabaseSettings(database_pool_size=7, data_dir=tmp_path, environment="test")  # type: ignore[call-arg]
    database = Database(settings.resolved_database_url(), pool_size=settings.database_pool_size)
    try:
        assert database.engine.pool.size() == 7  # type: ignore[attr-defined]
    finally:
        database.dispose()
