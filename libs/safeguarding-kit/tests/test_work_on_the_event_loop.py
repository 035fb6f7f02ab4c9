"""Database.run: a request's database work handed over whole. On PostgreSQL it runs on the
event loop (asyncpg: each statement waits there, with no worker thread handing the GIL back
and forth around every round trip); on SQLite in a worker thread. Either way it commits what
it commits, leaves nothing when it fails half way, and a database that cannot be reached or
a connection lost in use is an error the services answer 503 for, never a 500."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from safeguarding_kit.db import PING_AFTER_IDLE_SECONDS, Database, normalise_url
from safeguarding_kit.problems import install_problem_handlers
from safeguarding_kit.throwaway_database import provisioned_database


def with_notes_table(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(40))"))
    engine.dispose()


def notes(url: str) -> list[str]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        found = connection.execute(text("SELECT body FROM notes ORDER BY id")).scalars().all()
    engine.dispose()
    return [str(body) for body in found]


def on_the_loop(database: Database, *works: Callable[[Session], Any]) -> list[Any]:
    """Each of ``works`` given to ``database.run`` in turn, on one event loop holding the
    event loop's engine open, as a service's lifespan does."""

    async def main() -> list[Any]:
        async with database.event_loop_engine():
            return [await database.run(work) for work in works]

    return anyio.run(main)


def write_note(body: str, note_id: int = 1) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        session.execute(
            text("INSERT INTO notes (id, body) VALUES (:id, :body)"), {"id": note_id, "body": body}
        )
        session.commit()
        return threading.get_ident()

    return work


def test_work_commits_what_it_commits_on_the_event_loop_on_postgresql_and_in_a_thread_on_sqlite(
    tmp_path: Path,
) -> None:
    with provisioned_database("run", tmp_path) as url:
        with_notes_table(url)
        database = Database(url)
        loop_thread: list[int] = []

        def note_the_loop(_session: Session) -> None:
            return None

        async def main() -> int:
            loop_thread.append(threading.get_ident())
            async with database.event_loop_engine():
                await database.run(note_the_loop)
                return await database.run(write_note("screened by the duty worker"))

        ran_on = anyio.run(main)
        database.dispose()
        assert notes(url) == ["screened by the duty worker"]
        on_postgresql = make_url(url).get_backend_name() == "postgresql"
        assert (ran_on == loop_thread[0]) is on_postgresql


def test_work_that_fails_half_way_leaves_nothing_written(tmp_path: Path) -> None:
    with provisioned_database("half", tmp_path) as url:
        with_notes_table(url)
        database = Database(url)

        def fails_after_writing(session: Session) -> None:
            session.execute(text("INSERT INTO notes (id, body) VALUES (1, 'half a referral')"))
            raise ValueError("the referral's second statement failed")

        with pytest.raises(ValueError, match="second statement"):
            on_the_loop(database, fails_after_writing)
        on_the_loop(database, write_note("the retry", note_id=1))  # no row 1 was left behind
        database.dispose()
        assert notes(url) == ["the retry"]


def postgresql_only(url: str) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        pytest.skip("the event loop's engine is PostgreSQL's; SQLite work runs in a thread")


def backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def drop_backend(url: str, pid: int) -> None:
    """What a server restart or a network drop does to a pooled connection."""
    admin = create_engine(normalise_url(url))
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_lost_in_use_fails_that_work_as_unavailable_and_the_next_is_served(
    tmp_path: Path,
) -> None:
    with provisioned_database("lost", tmp_path) as url:
        postgresql_only(url)
        database = Database(url, pool_size=1)
        failures: list[BaseException] = []

        async def main() -> tuple[int, int]:
            async with database.event_loop_engine():
                dropped = await database.run(backend_pid)
                drop_backend(url, dropped)
                try:
                    await database.run(backend_pid)
                except DBAPIError as exc:
                    failures.append(exc)
                return dropped, await database.run(backend_pid)

        dropped, renewed = anyio.run(main)
        database.dispose()
        # The one piece of work that met the dead connection failed as "unavailable" (the
        # services' problem handler answers 503 with Retry-After for it); the pool renewed.
        assert len(failures) == 1
        assert isinstance(failures[0], DBAPIError)
        assert failures[0].connection_invalidated
        assert renewed != dropped


def test_a_connection_the_server_dropped_while_it_was_idle_is_replaced_before_work_sees_it(
    tmp_path: Path,
) -> None:
    """As on the psycopg engine: a pooled connection idle for longer than a moment is pinged
    before use, and one the server dropped meanwhile is replaced unseen."""
    with provisioned_database("idle", tmp_path) as url:
        postgresql_only(url)
        database = Database(url, pool_size=1)

        async def main() -> tuple[int, int]:
            async with database.event_loop_engine():
                dropped = await database.run(backend_pid)
                drop_backend(url, dropped)
                await anyio.sleep(PING_AFTER_IDLE_SECONDS * 1.5)
                return dropped, await database.run(backend_pid)  # no error: the ping found it gone

        dropped, renewed = anyio.run(main)
        database.dispose()
        assert renewed != dropped


def test_a_database_that_cannot_be_reached_is_an_operational_error_as_with_psycopg(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/referral")
    with pytest.raises(OperationalError):
        on_the_loop(database, backend_pid)
    database.dispose()


def test_the_url_s_libpq_parameters_reach_the_event_loop_s_connections(tmp_path: Path) -> None:
    """Deployments name TLS and the like in DATABASE_URL as libpq reads them (sslmode,
    sslrootcert, ...): the event loop's connections read the same URL the same way."""
    with provisioned_database("libpq", tmp_path) as url:
        postgresql_only(url)
        with_notes_table(url)
        database = Database(str(make_url(url).update_query_dict({"sslmode": "disable"})))
        on_the_loop(database, write_note("over the same URL"))
        database.dispose()
        assert notes(url) == ["over the same URL"]


class _LostConnection(Exception):
    """What asyncpg raises when the server goes away mid-statement."""


@pytest.mark.parametrize(
    ("connection_invalidated", "status"),
    [(True, 503), (False, 500)],
    ids=["a connection lost in use is 503", "any other database error stays a 500"],
)
def test_a_service_answers_a_connection_lost_in_use_with_503_and_retry_after(
    connection_invalidated: bool, status: int
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/referrals")
    def lost() -> None:
        raise InterfaceError("SELECT 1", {}, _LostConnection(), connection_invalidated=connection_invalidated)

    answer = TestClient(app, raise_server_exceptions=False).get("/referrals")
    assert answer.status_code == status
    if status == 503:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"].isdigit()
        assert "SELECT" not in answer.text
