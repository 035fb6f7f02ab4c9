"""A service's database connections: opened as its load needs them, never more than its
pool's size, and each one kept once opened. A new PostgreSQL connection is a new server
process; a pool that opens and closes them under load (as SQLAlchemy's overflow does) spent
more of the server's CPU on them than on the reads it served."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from safeguarding_kit.db import Database, create_db_engine, normalise_url
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


IDLE = 0.2  # seconds after which a pooled connection is checked before use, in these tests


def counting_pings(engine: Engine) -> list[object]:
    """The pings ``engine`` sends from now on (one entry each)."""
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def test_a_connection_back_a_moment_ago_is_used_as_it_is_and_one_idle_longer_is_checked_first(
    tmp_path: Path,
) -> None:
    with provisioned_database("idle", tmp_path) as url:
        engine = create_db_engine(url, pool_size=1, ping_after_idle_seconds=IDLE)
        pings = counting_pings(engine)
        try:
            for _ in range(3):  # requests one after another, as under load
                with engine.begin() as connection:
                    connection.execute(text("SELECT 1"))
            assert pings == []
            time.sleep(IDLE * 1.5)
            with engine.begin() as connection:
                connection.execute(text("SELECT 1"))
            assert len(pings) == 1
        finally:
            engine.dispose()


def backend_of(connection: Any) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def drop_backend(url: str, pid: int) -> None:
    """What a server restart or a network drop does to a pooled connection."""
    admin = create_engine(normalise_url(url))
    try:
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_the_server_dropped_while_it_was_idle_is_replaced_before_a_request_sees_it(
    tmp_path: Path,
) -> None:
    with provisioned_database("dropped", tmp_path) as url:
        if not url.startswith("postgresql"):
            pytest.skip("a SQLite file has no server to drop a connection")
        engine = create_db_engine(url, pool_size=1, ping_after_idle_seconds=IDLE)
        try:
            with engine.begin() as connection:
                dropped = backend_of(connection)
            drop_backend(url, dropped)
            time.sleep(IDLE * 1.5)
            with engine.begin() as connection:  # no error: the ping found it gone
                assert backend_of(connection) != dropped
        finally:
            engine.dispose()


def test_a_connection_dropped_a_moment_after_use_fails_one_request_then_the_pool_is_renewed(
    tmp_path: Path,
) -> None:
    """The price of not pinging busy connections: the one request that meets the dropped
    connection fails (a service answers 503 with Retry-After) and the next is served."""
    with provisioned_database("renewed", tmp_path) as url:
        if not url.startswith("postgresql"):
            pytest.skip("a SQLite file has no server to drop a connection")
        engine = create_db_engine(url, pool_size=1, ping_after_idle_seconds=60)
        try:
            with engine.begin() as connection:
                dropped = backend_of(connection)
            drop_backend(url, dropped)
            with pytest.raises(OperationalError), engine.begin() as connection:
                connection.execute(text("SELECT 1"))
            with engine.begin() as connection:
                assert backend_of(connection) != dropped
        finally:
            engine.dispose()
