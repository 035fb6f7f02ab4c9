"""One database URL, SQLite or PostgreSQL (psycopg 3), to an engine and a session
per request.

Services commit explicitly in their service layer; the request's session is
closed (and anything uncommitted rolled back) when the request ends. A hot path may
instead hand its work to :meth:`Database.run`, which runs it on the event loop on
PostgreSQL (asyncpg under SQLAlchemy's asyncio extension) and in a worker thread elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import asyncpg
from fastapi import Depends, Request
from pydantic import AfterValidator, AwareDatetime
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    Enum,
    MetaData,
    Select,
    String,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    func,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

# Stable constraint names, identical on SQLite and PostgreSQL, so migrations can
# name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A MetaData with the platform's naming convention, one per service."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def enum_column(cls: type[StrEnum], name: str) -> Enum:
    """A closed vocabulary stored as its values with a CHECK constraint, the same on
    SQLite and PostgreSQL (no native enum types to migrate)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
    )


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


OWNER_ONLY = 0o600
# The files SQLite keeps beside a database: they hold its pages too.
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def keep_sqlite_file_private(url: str) -> None:
    """Create the SQLite file ``url`` names readable and writable by its owner only (it
    holds children's names), and narrow an existing one and its companions to that. SQLite
    gives its -wal and -shm files the database file's permissions."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))  # an empty file is an empty database
    for file in (path, *(Path(f"{path}{suffix}") for suffix in _SQLITE_COMPANIONS)):
        # Another user's file (a volume mounted in) stays as it is: its owner decides.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if file.stat().st_mode & 0o777 != OWNER_ONLY:
                file.chmod(OWNER_ONLY)


# Connections a process may open (DATABASE_POOL_SIZE changes it): as many as it could before
# (5 kept and 10 more of overflow), all kept now. A service's endpoints run in 40 threads,
# but a request holds its connection for a small part of its time.
POOL_SIZE = 15


# A pooled connection back in the pool for longer than this is pinged before it is used
# again; one back a moment ago is used as it is (see ping_connections_idle_for).
PING_AFTER_IDLE_SECONDS = 1.0


def ping_connections_idle_for(engine: Engine, seconds: float) -> None:
    """Check a pooled connection before use once it has been idle for ``seconds``: a server
    restarted or a connection dropped meanwhile is found then, and the pool opens a new one
    in its place (up to three tries) before the request sees it. SQLAlchemy's
    ``pool_pre_ping`` pings on every checkout: under load, one round trip in five of a read,
    on connections in use a moment before. A connection that dies in use, or between two
    requests a moment apart, fails that request (503, retry), and SQLAlchemy then replaces
    every connection the pool holds (its optimistic disconnect handling)."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A connection just opened has no idle time: its info goes with the one it replaced.
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection was dropped while idle") from exc


_IDLE_SINCE = "safeguarding_kit.idle_since"


def create_db_engine(
    url: str, *, pool_size: int = POOL_SIZE, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS
) -> Engine:
    """An engine for SQLite (foreign keys on, WAL, busy timeout; the file its owner's
    only) or PostgreSQL, opening up to ``pool_size`` connections, as they are needed, and
    keeping each one it opens (one more is waited for, up to 10 s); a connection idle for
    ``ping_after_idle_seconds`` is checked before it is used again."""
    url = normalise_url(url)
    # hide_parameters: a failed statement's error (and so a log line) never holds the values
    # it carried, such as a child's name. No overflow: a pool's overflow connections are
    # closed as they come back while the pool holds its size idle, so a load just above the
    # size opens and closes a connection every few requests (a new PostgreSQL backend each
    # time, which cost more CPU than the reads themselves).
    kwargs: dict[str, Any] = {"hide_parameters": True}
    pool = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": 10}
    if url.startswith("sqlite"):
        keep_sqlite_file_private(url)
        parsed = make_url(url)
        if parsed.database not in (None, "", ":memory:") and parsed.query.get("mode") != "memory":
            kwargs.update(pool)  # an in-memory database has a pool of its own kind
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    else:
        engine = create_engine(url, **kwargs, **pool)
    ping_connections_idle_for(engine, ping_after_idle_seconds)
    return engine


def create_event_loop_engine(
    url: str, *, pool_size: int = POOL_SIZE, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS
) -> AsyncEngine | None:
    """An engine whose statements wait on the event loop, for PostgreSQL: asyncpg under
    SQLAlchemy's asyncio extension, reached with the same URL as the psycopg engine (asyncpg
    reads the libpq parameters it carries, e.g. ``sslmode``, ``sslrootcert``), and pooled
    and pinged as :func:`create_db_engine` does. None for SQLite, which has no driver here
    that waits without a thread of its own."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql":
        return None
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    async def connect() -> Any:
        try:
            return await asyncpg.connect(dsn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # Refused, unresolvable, timed out, starting up, out of connections: as psycopg
            # reports these (OperationalError), so a request meeting one is 503, not 500.
            raise engine.dialect.loaded_dbapi.OperationalError(type(exc).__name__) from exc

    engine = create_async_engine(
        parsed.set(drivername="postgresql+asyncpg", query={}),
        async_creator=connect,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
    )
    ping_connections_idle_for(engine.sync_engine, ping_after_idle_seconds)
    return engine


_Result = TypeVar("_Result")


class Database:
    """The engine and session factory of one service; on PostgreSQL, while
    :meth:`event_loop_engine` is open (the app's lifespan holds it), a second engine for
    the work :meth:`run` puts on the event loop."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = normalise_url(url)
        self.pool_size = pool_size
        self.engine = create_db_engine(self.url, pool_size=pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # None while there is no such engine (SQLite; none open), or while a test has every
        # session on one connection of its own (safeguarding_kit.testing.rolled_back).
        self.event_loop_sessions: async_sessionmaker[AsyncSession] | None = None

    @contextlib.asynccontextmanager
    async def event_loop_engine(self) -> AsyncIterator[None]:
        """On PostgreSQL, the engine :meth:`run` uses, made on the event loop that will use
        it (asyncpg's connections belong to the loop they were opened on) and disposed on the
        way out: enter it on that loop, as the app's lifespan does. Nothing on SQLite."""
        engine = create_event_loop_engine(self.url, pool_size=self.pool_size)
        if engine is None:
            yield
            return
        self.event_loop_sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        try:
            yield
        finally:
            self.event_loop_sessions = None
            await engine.dispose()

    async def run(self, work: Callable[[Session], _Result]) -> _Result:
        """``work(session)`` with a session of its own, closed after it (anything it left
        uncommitted rolled back); what ``work`` answers.

        On PostgreSQL (with the event loop's engine open) ``work`` runs on the event loop:
        SQLAlchemy runs it in a greenlet, and each statement waits on the loop, not in a
        worker thread handing the GIL back and forth around every round trip (in
        bench/referrals.py and bench/reads.py, about a seventh less of the service's CPU a
        referral and a quarter less a read). ``work`` must not block the thread on anything
        but its statements: a lock or a condition waited for would stop the loop (reads
        audited in groups wait on the loop there).
        Elsewhere (SQLite; a test's one connection) it runs in a worker thread on a session
        from :attr:`sessions`. Either way it is not abandoned half way when the request is
        cancelled: its transaction commits or rolls back as ``work`` decides."""
        sessions = self.event_loop_sessions
        with anyio.CancelScope(shield=True):
            if sessions is None:
                done = await anyio.to_thread.run_sync(self._in_a_thread, work)
            else:
                async with sessions() as session:
                    done = await session.run_sync(work)
        return done

    def _in_a_thread(self, work: Callable[[Session], _Result]) -> _Result:
        with self.sessions() as session:
            return work(session)

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session (FastAPI dependency); the app keeps its Database in ``state``.

    Made and closed on the event loop, not handed to a worker thread and back twice per
    request as a plain generator is: making a session touches no database, and neither does
    closing one whose transaction ended (committed, or never begun). Closing one still in a
    transaction (a request that failed half way) rolls it back on the database: that goes to
    a worker thread, shielded from the request's cancellation and, as FastAPI does for a
    plain generator's exit, outside the endpoints' thread limit, so that it never waits for
    a thread held by a request that is waiting for this very connection."""
    database: Database = request.app.state.database
    session = database.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_database(request: Request) -> Database:
    """The app's Database (FastAPI dependency), for handlers that give their work to
    :meth:`Database.run` rather than take a session of the request."""
    database: Database = request.app.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the platform stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def restricted(stmt: Select[*tuple[Any, ...]], condition: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """``stmt`` restricted to the rows meeting ``condition`` (who may see what, say); ``stmt``
    itself when the condition is ``true()`` and restricts nothing. A statement built once
    then stays the same object, whose cache key SQLAlchemy works out once: for a new one it
    walks the whole statement again on every execution."""
    return stmt if condition is true() else stmt.where(condition)


def unnested(name: str, item_type: Any) -> Any:
    """PostgreSQL: the values given as one array parameter ``name``, one row each (``unnest``;
    several side by side in a SELECT go in step), for statements whose text is the same
    however many rows they write. Text as unbounded VARCHAR: a cast to VARCHAR(n) would cut
    an over-long value silently, where the insert into the column refuses it."""
    item = String() if isinstance(item_type, String) else item_type
    return func.unnest(bindparam(name, type_=postgresql.ARRAY(item)))


def utc_now() -> datetime:
    return datetime.now(UTC)


# A request's timestamp: must carry an offset, and is held in UTC from then on (so
# answers always show times in UTC, whatever offset the caller wrote).
UtcTimestamp = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]
