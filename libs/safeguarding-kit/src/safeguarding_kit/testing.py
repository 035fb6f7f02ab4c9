"""Pytest fixtures every service's tests share (loaded as a plugin by the root conftest).

A service's ``conftest.py`` defines one fixture, ``service_spec``, saying how to
build and migrate it; this plugin gives it a migrated database (SQLite by default,
PostgreSQL when ``TEST_DATABASE_URL`` names a server: a database of its own,
created and dropped here), a test client with a running lifespan, and real RS256
tokens from a test issuer. Each test starts from empty tables.

The app is built once per run and its lifespan entered once; each test's writes go into
one transaction that is rolled back after it (sessions join it as savepoints, SQLAlchemy's
``join_transaction_mode="create_savepoint"``). A test that needs committed data (it opens
connections of its own, runs requests concurrently, or changes the settings) gets an app
of its own instead, and the tables are emptied after it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from opentelemetry import trace
from sqlalchemy import Connection, MetaData, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from safeguarding_kit.audit.at_commit import chains_at_commit
from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair, mint_token
from safeguarding_kit.cloudevents import CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON
from safeguarding_kit.db import Database, normalise_url
from safeguarding_kit.events import signed_headers
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.throwaway_database import provisioned_database


@dataclass(frozen=True)
class ServiceSpec:
    """How the shared fixtures build one service."""

    name: str
    settings_class: type[DatabaseSettings]
    create_app: Callable[[DatabaseSettings], FastAPI]
    metadata: MetaData
    migrations_dir: Path
    version_table: str
    # Settings every test of the service runs with, beyond the shared ones (e.g. no
    # background sweeps in a process that lives for the whole run).
    test_settings: Mapping[str, Any] = field(default_factory=dict)


@contextmanager
def raw_tcp_service(on_connect: Callable[[socket.socket], None]) -> Iterator[str]:
    """A listener on loopback that calls ``on_connect`` with each connection it accepts
    (to say nothing, or something that is not HTTP): a service misbehaving below HTTP.
    Gives its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            on_connect(conn)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for conn in held:
            conn.close()


def loopback_server(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """``handler`` served on a free loopback port from a daemon thread (each request in a
    thread of its own): the server, to ``shutdown()`` and ``server_close()`` when done, and
    its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """:func:`loopback_server` for the block: its base URL, stopped on the way out."""
    server, url = loopback_server(handler)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


class WebhookReceiver:
    """A partner's webhook receiver on a loopback port: records each delivery as
    (headers with lower-case names, body, arrival time on the monotonic clock) and
    answers ``status``. ``close()`` when done."""

    def __init__(self, path: str = "/hooks/safeguarding") -> None:
        self.deliveries: list[tuple[dict[str, str], bytes, float]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.deliveries.append((headers, body, time.monotonic()))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server, base = loopback_server(Handler)
        self.url = base + path

    def events(self) -> list[dict[str, Any]]:
        """The CloudEvents received, in order."""
        return [json.loads(body) for _, body, _ in self.deliveries]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def eventually(probe: Callable[[], Any], what: str, *, seconds: float = 20.0) -> Any:
    """Poll ``probe`` until it returns something truthy, and give that (events are
    delivered in the background); fail the test saying ``what`` never happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


def empty_tables(url: str, metadata: MetaData) -> None:
    """Delete every row of the service's tables, children before parents."""
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


class TokenFactory:
    """Real RS256 tokens from the test issuer (the dev issuer's mechanism, test keys)."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self.private_pem = ensure_dev_key_pair(key_dir).read_bytes()

    def __call__(
        self,
        agency: str = "sheffield-social-care",
        agency_type: str = "social_care",
        roles: Iterable[str] = ("practitioner",),
        **overrides: Any,
    ) -> str:
        sub = overrides.pop("sub", f"worker@{agency}")
        return mint_token(
            self.private_pem,
            sub=sub,
            agency=agency,
            agency_type=agency_type,
            roles=roles,
            **overrides,
        )

    def headers(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self(*args, **kwargs)}"}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of the processes under test (holds the test issuer's keys)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def tokens(data_dir: Path) -> TokenFactory:
    return TokenFactory(data_dir / "dev-issuer")


@pytest.fixture
def opentelemetry_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time anything asks OpenTelemetry for its tracer provider (as FastAPI's own
    telemetry does on every request while it is on: ``OPENTELEMETRY``)."""
    asked: list[str] = []
    real = trace.get_tracer_provider

    def get_tracer_provider() -> trace.TracerProvider:
        asked.append("tracer provider")
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", get_tracer_provider)
    return asked


class MigratedDatabases:
    """One migrated database per service for the whole test run, dropped at its end."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._stack = ExitStack()
        self._urls: dict[str, str] = {}

    def url_for(self, spec: ServiceSpec) -> str:
        if spec.name not in self._urls:
            url = self._stack.enter_context(provisioned_database(spec.name, self._workdir))
            upgrade_to_head(spec.migrations_dir, url, spec.version_table)
            self._urls[spec.name] = url
        return self._urls[spec.name]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedDatabases]:
    databases = MigratedDatabases(tmp_path_factory.mktemp("db"))
    yield databases
    databases.close()


@pytest.fixture
def database_url(service_spec: ServiceSpec, migrated_databases: MigratedDatabases) -> str:
    """The service's database, migrated to head once per test run. A test that asks for
    it reaches the database on connections of its own, so it runs against an app of its
    own whose data is committed, and every table is emptied after it."""
    return migrated_databases.url_for(service_spec)


@pytest.fixture
def settings(
    service_spec: ServiceSpec, migrated_databases: MigratedDatabases, data_dir: Path, tokens: TokenFactory
) -> DatabaseSettings:
    """The service's settings under test; a module may override this fixture (its tests
    then share an app built from what it returns)."""
    return service_spec.settings_class(
        database_url=migrated_databases.url_for(service_spec),
        data_dir=data_dir,
        environment="test",
        log_json=False,
        events_relay_enabled=False,  # tests that need delivery run the relay themselves
        **service_spec.test_settings,
    )


class SessionApps:
    """One running app per service and distinct settings for the whole test run (most
    tests share the first; a module that overrides the settings shares another)."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._apps: list[tuple[str, dict[str, Any], FastAPI, TestClient]] = []

    def get(self, spec: ServiceSpec, settings: DatabaseSettings) -> FastAPI:
        wanted = settings.model_dump()
        for name, dumped, app, _ in self._apps:
            if name == spec.name and dumped == wanted:
                return app
        app = spec.create_app(settings)
        test_client = self._stack.enter_context(TestClient(app))
        self._apps.append((spec.name, wanted, app, test_client))
        return app

    def client_of(self, app: FastAPI) -> TestClient | None:
        """The running client of ``app`` if it is one of these apps."""
        for _, _, shared, test_client in self._apps:
            if shared is app:
                return test_client
        return None

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def session_apps() -> Iterator[SessionApps]:
    apps = SessionApps()
    yield apps
    apps.close()


@contextmanager
def rolled_back(database: Database) -> Iterator[Connection]:
    """Everything the app writes while this is open goes into one transaction on one
    connection (each session the app opens joins it as a savepoint, so its commits and
    rollbacks behave as they would), and that transaction is rolled back at the end: the
    next test starts from the same empty tables without a row being deleted."""
    original = database.sessions
    with database.engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Python's sqlite3 module begins transactions on its own terms and would commit
            # at the first RELEASE of a savepoint: take over, as SQLAlchemy's pysqlite
            # documentation says ("Serializable isolation / Savepoints / Transactional DDL").
            isolation = driver.isolation_level  # type: ignore[union-attr]
            driver.isolation_level = None  # type: ignore[union-attr]
            event.listen(connection, "begin", _begin_explicitly)
        transaction = connection.begin()
        if not sqlite:
            # That transaction never commits: the audit trail's records, which PostgreSQL
            # chains at commit (safeguarding_kit.audit.at_commit), are chained at each
            # statement instead, so a test reads them as a committed request leaves them.
            connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
            with Session(connection, join_transaction_mode="create_savepoint") as asking:
                chains_at_commit(asking)  # asked once per database, not among a test's statements
        database.sessions = sessionmaker(
            **{**original.kw, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        # Work the app would run on the event loop's own engine runs on this connection too
        # (Database.run then takes a worker thread, as it does on SQLite).
        event_loop_sessions, database.event_loop_sessions = database.event_loop_sessions, None
        try:
            yield connection
        finally:
            database.sessions = original
            database.event_loop_sessions = event_loop_sessions
            transaction.rollback()
            if sqlite:
                event.remove(connection, "begin", _begin_explicitly)
                driver.isolation_level = isolation  # type: ignore[union-attr]


def _begin_explicitly(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _needs_an_app_of_its_own(request: pytest.FixtureRequest) -> bool:
    """A test gets an app of its own, whose writes are committed, when it reaches the
    database on connections of its own (asks for ``database_url``) or runs requests or
    background work at the same time (marked ``real_commits``)."""
    return (
        "database_url" in request.fixturenames or request.node.get_closest_marker("real_commits") is not None
    )


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    service_spec: ServiceSpec,
    settings: DatabaseSettings,
    migrated_databases: MigratedDatabases,
    session_apps: SessionApps,
) -> Iterator[FastAPI]:
    """The service under test. Most tests share an app that runs for the whole run and
    see their writes rolled back after them; see :func:`_needs_an_app_of_its_own` for
    the others."""
    if _needs_an_app_of_its_own(request):
        yield service_spec.create_app(settings)
        empty_tables(migrated_databases.url_for(service_spec), service_spec.metadata)
        return
    shared = session_apps.get(service_spec, settings)
    # What a test sets on the app's state (other settings, a client of its own) is undone
    # with its writes. Starlette's State keeps its attributes in this one dict.
    state: dict[str, Any] = shared.state._state
    before = dict(state)
    with rolled_back(shared.state.database):
        yield shared
    state.clear()
    state.update(before)


@pytest.fixture
def client(app: FastAPI, session_apps: SessionApps) -> Iterator[TestClient]:
    running = session_apps.client_of(app)
    if running is not None:
        yield running
        return
    with TestClient(app) as test_client:
        yield test_client


def referral_event(type: str, subject: str, **data: Any) -> dict[str, Any]:
    """A CloudEvent as the referral service's relay sends it, made now, ``data`` as given."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "referral-api",
        "type": type,
        "subject": subject,
        "time": datetime.now(UTC).isoformat(),
        "data": data,
    }


@contextmanager
def statements_sent(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app's service sends its database while in the block, in order."""
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = client.app.state.database.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def deliver_event(client: TestClient, event: Mapping[str, Any], *, receiver: str) -> int:
    """Post ``event`` (a CloudEvent as a dict) to the app's ``/internal/events``, signed
    with its events secret as another service's relay would sign it for ``receiver``;
    the status code of the answer."""
    body = json.dumps(event).encode()
    secret: str = client.app.state.settings.events_signing_secret  # type: ignore[attr-defined]
    signed = signed_headers(secret, f"{event['id']}:{receiver}", body, CLOUDEVENTS_JSON)
    status: int = client.post("/internal/events", content=body, headers=signed).status_code
    return status


def deliver_batch(client: TestClient, items: Any, *, receiver: str, secret: str | None = None) -> Response:
    """Post ``items`` (CloudEvents as dicts, or anything else to see it refused) to the app's
    ``/internal/events`` as one batch, signed as another service's relay signs a pass's
    events for ``receiver`` (with the app's events secret unless ``secret`` is given)."""
    body = json.dumps(items).encode()
    secret = secret or client.app.state.settings.events_signing_secret  # type: ignore[attr-defined]
    signed = signed_headers(str(secret), f"batch:{uuid.uuid4()}:{receiver}", body, CLOUDEVENTS_BATCH_JSON)
    answer: Response = client.post("/internal/events", content=body, headers=signed)
    return answer
