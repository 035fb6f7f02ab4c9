"""Reads served at the same time are audited in one transaction (group commit): the chain
stays one unforked chain holding every read, each read returns only once its record is
committed, and when a group's commit fails none of its reads is answered. On SQLite, or on
PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine, MetaData, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util.concurrency import await_

from safeguarding_kit.audit.group_commit import ReadGroups, groups_for
from safeguarding_kit.audit.models import AuditTables, audit_tables
from safeguarding_kit.audit.service import AuditTrail, append_records, verify_chain
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import Database, create_db_engine, service_metadata
from safeguarding_kit.problems import DatabaseUnavailable
from safeguarding_kit.throwaway_database import provisioned_database

SOCIAL_WORKER = Principal(
    sub="tom.hartley@sheffield.gov.example",
    agency="sheffield-social-care",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.practitioner}),
)
READERS = 8


@dataclass
class Service:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    tables: AuditTables
    trail: AuditTrail

    def records(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.tables.log)).scalar_one())

    def groups(self) -> ReadGroups:
        with self.sessions() as session:
            return groups_for(session, self.tables, append_records)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    metadata: MetaData = service_metadata()
    tables = audit_tables(metadata)
    with provisioned_database("audit-groups", tmp_path) as url:
        engine = create_db_engine(url, pool_size=READERS + 2)
        metadata.create_all(engine)
        yield Service(url, engine, sessionmaker(engine, expire_on_commit=False), tables, AuditTrail(tables))
        engine.dispose()


def read_a_child(service: Service, child: uuid.UUID) -> None:
    """What a read of a child's record does: look, record the read, commit the read."""
    with service.sessions() as session:
        session.execute(select(service.tables.log.c.seq).limit(1)).all()
        service.trail.record(session, SOCIAL_WORKER, "read", "child", child, child)
        service.trail.commit_read(session)


def hold_the_first_leader(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> tuple[threading.Event, list[int]]:
    """Make the first group's leader wait, before it writes, until ``release`` is set, and
    note the size of every group written."""
    groups = service.groups()
    release, sizes = threading.Event(), []
    write = groups.write

    def held_write(session: Session, tables: AuditTables, records: list[dict[str, Any]]) -> Any:
        if not sizes:
            release.wait(timeout=10)
        sizes.append(len(records))
        return write(session, tables, records)

    monkeypatch.setattr(groups, "write", held_write)
    return release, sizes


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_reads_waiting_while_one_is_appended_are_appended_together_in_one_unforked_chain(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, sizes = hold_the_first_leader(service, monkeypatch)
    children = [uuid.uuid4() for _ in range(READERS)]
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        first = pool.submit(read_a_child, service, children[0])
        wait_until(lambda: service.groups().leading)
        rest = [pool.submit(read_a_child, service, child) for child in children[1:]]
        wait_until(lambda: len(service.groups().waiting) == READERS - 1)
        assert service.records() == 0  # nobody answered yet: no record is committed
        release.set()
        for read in [first, *rest]:
            read.result(timeout=10)
    assert sizes == [1, READERS - 1]  # the leader alone, then everyone who waited, in one go
    assert service.records() == READERS
    with service.sessions() as session:
        result = verify_chain(session, service.tables)
        logged = set(session.scalars(select(service.tables.log.c.child_id)))
    assert (result.ok, result.checked) == (True, READERS), result.reason
    assert logged == set(children)


def test_a_read_returns_only_once_its_record_is_committed(service: Service) -> None:
    child = uuid.uuid4()
    read_a_child(service, child)
    with service.engine.connect() as other:  # another connection sees it at once
        seen = other.execute(select(service.tables.log.c.child_id)).scalars().all()
    assert seen == [child]


def test_when_a_groups_commit_fails_none_of_its_reads_is_answered(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, _ = hold_the_first_leader(service, monkeypatch)
    groups = service.groups()
    held_write = groups.write
    calls = 0

    def failing_second_group(session: Session, tables: AuditTables, records: list[dict[str, Any]]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OperationalError("COMMIT", {}, Exception("the database went away"))
        return held_write(session, tables, records)

    monkeypatch.setattr(groups, "write", failing_second_group)
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        first = pool.submit(read_a_child, service, uuid.uuid4())
        wait_until(lambda: service.groups().leading)
        rest = [pool.submit(read_a_child, service, uuid.uuid4()) for _ in range(READERS - 1)]
        wait_until(lambda: len(service.groups().waiting) == READERS - 1)
        release.set()
        first.result(timeout=10)
        failures = [read.exception(timeout=10) for read in rest]
    # The second group's leader sees the database error itself (503 by the service's
    # handler); everyone it carried is refused with a 503 too, none answered unaudited.
    assert sum(isinstance(f, OperationalError) for f in failures) == 1
    carried = [f for f in failures if isinstance(f, DatabaseUnavailable)]
    assert len(carried) == READERS - 2
    assert all(f.status == 503 and f.headers.get("Retry-After") for f in carried)
    assert service.records() == 1
    assert not service.groups().leading  # the next read leads again
    read_a_child(service, uuid.uuid4())
    assert service.records() == 2


def test_each_database_has_its_own_groups(tmp_path: Path) -> None:
    metadata: MetaData = service_metadata()
    tables = audit_tables(metadata)
    engines = [create_db_engine(f"sqlite:///{tmp_path / name}.db") for name in ("one", "two")]
    try:
        found = []
        for engine in engines:
            with Session(engine) as session:
                found.append(groups_for(session, tables, append_records))
        assert found[0] is not found[1]
        with Session(engines[0]) as session:
            assert groups_for(session, tables, append_records) is found[0]
    finally:
        for engine in engines:
            engine.dispose()


def test_reads_on_the_event_loop_wait_for_their_leader_there_and_are_appended_together(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads given to Database.run on PostgreSQL wait for their group's leader on the event
    loop: the leader's statements go on meanwhile, and the group is appended as in threads."""
    if not service.url.startswith("postgresql"):
        pytest.skip("work runs on the event loop on PostgreSQL only")
    database = Database(service.url)
    children = [uuid.uuid4() for _ in range(READERS)]
    sizes: list[int] = []

    def read(child: uuid.UUID) -> Callable[[Session], None]:
        def work(session: Session) -> None:
            session.execute(select(service.tables.log.c.seq).limit(1)).all()
            service.trail.record(session, SOCIAL_WORKER, "read", "child", child, child)
            service.trail.commit_read(session)

        return work

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(1000):  # up to 10 s, the loop free meanwhile
            if condition():
                return
            await anyio.sleep(0.01)
        raise AssertionError("gave up waiting")

    async def main() -> None:
        async with database.event_loop_engine():
            groups = await database.run(lambda session: groups_for(session, service.tables, append_records))
            release = asyncio.get_running_loop().create_future()
            write = groups.write

            def held_write(session: Session, tables: AuditTables, records: list[dict[str, Any]]) -> Any:
                if not sizes:
                    await_(release)  # the first leader waits, on the loop, before it writes
                sizes.append(len(records))
                return write(session, tables, records)

            monkeypatch.setattr(groups, "write", held_write)
            first = asyncio.ensure_future(database.run(read(children[0])))
            await until(lambda: groups.leading)
            rest = [asyncio.ensure_future(database.run(read(child))) for child in children[1:]]
            await until(lambda: len(groups.waiting) == READERS - 1)
            assert service.records() == 0  # nobody answered yet: no record is committed
            release.set_result(None)
            await asyncio.gather(first, *rest)

    # On a thread of its own: a read waiting for its leader by blocking the loop would stop
    # it for good, and the test must then fail, not hang.
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported below
            failures.append(exc)

    loop = threading.Thread(target=serve, daemon=True)
    loop.start()
    loop.join(timeout=30)
    assert not loop.is_alive(), "the event loop stopped: a read waited for its leader by blocking it"
    assert failures == []
    database.dispose()
    assert sizes == [1, READERS - 1]  # the leader alone, then everyone who waited, in one go
    with service.sessions() as session:
        result = verify_chain(session, service.tables)
        logged = set(session.scalars(select(service.tables.log.c.child_id)))
    assert (result.ok, result.checked) == (True, READERS), result.reason
    assert logged == set(children)
