"""Writes held until the commit (``ride_on_commit``), as a specification: what is held is
written exactly when the transaction commits, in the order held, and never when it rolls
back; on PostgreSQL it goes in the statement of the request's audit record, a round trip
fewer, and the chain still verifies; on SQLite, and in a savepoint, it is written at once.
On SQLite, or on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from safeguarding_kit.audit.models import AuditTables, audit_tables
from safeguarding_kit.audit.service import AuditTrail, verify_chain
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.commit_riders import RiderInSavepoint, ride_on_commit, send_held
from safeguarding_kit.db import create_db_engine, service_metadata
from safeguarding_kit.throwaway_database import provisioned_database

WORKER = Principal(
    sub="tom.hartley@sheffield.gov.example",
    agency="sheffield-social-care",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.practitioner}),
)
CHILD = uuid.UUID("5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b")


@dataclass
class Service:
    """A service's audit trail and a table of notes, on a fresh database, and what it sends."""

    engine: Engine
    sessions: sessionmaker[Session]
    trail: AuditTrail
    notes: Table
    reminders: Table
    sent: list[str]

    @property
    def on_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def bodies(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(self.notes.c.body).order_by(self.notes.c.seq)))

    def audit_records(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(self.trail.tables.log)) or 0)

    def chain_verifies(self) -> bool:
        with self.sessions() as session:
            return verify_chain(session, self.trail.tables).ok

    def record(self, session: Session) -> None:
        self.trail.record(session, WORKER, "create", "note", "n-1", CHILD)


@functools.cache
def rider(table: Table, prefix: str) -> Insert:
    """An insert into ``table`` whose parameters are named with ``prefix``: built once, as a
    rider's statement is (its identity keys the carrier's statement)."""
    return insert(table).values(
        id=bindparam(f"{prefix}_id", type_=Uuid()), body=bindparam(f"{prefix}_body", type_=String())
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    metadata: MetaData = service_metadata()
    tables: AuditTables = audit_tables(metadata)
    notes = Table(
        "notes",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("body", String(50), nullable=False),
    )
    reminders = Table(
        "reminders",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("body", String(50), nullable=False),
    )
    with provisioned_database("commit-riders", tmp_path) as url:
        engine = create_db_engine(url)
        metadata.create_all(engine)
        sent: list[str] = []

        def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            sent.append(statement)

        event.listen(engine, "before_cursor_execute", remember)
        yield Service(
            engine, sessionmaker(engine, expire_on_commit=False), AuditTrail(tables), notes, reminders, sent
        )
        engine.dispose()


def hold_note(
    service: Service, session: Session, body: str, prefix: str = "n", *, table: Table | None = None
) -> None:
    statement = rider(service.notes if table is None else table, prefix)
    ride_on_commit(session, statement, {f"{prefix}_id": uuid.uuid4(), f"{prefix}_body": body})


def test_a_held_write_is_in_the_database_once_its_transaction_commits(service: Service) -> None:
    with service.sessions() as session:
        service.record(session)
        hold_note(service, session, "strategy meeting booked")
        seen_before_the_commit = session.scalars(select(service.notes.c.body)).all()
        session.commit()
    # On PostgreSQL held until the commit; on SQLite written at once.
    assert seen_before_the_commit == ([] if service.on_postgresql else ["strategy meeting booked"])
    assert service.bodies() == ["strategy meeting booked"]
    assert service.audit_records() == 1
    assert service.chain_verifies()


def test_a_write_held_in_a_transaction_that_rolls_back_is_never_written(service: Service) -> None:
    with service.sessions() as session:
        service.record(session)
        hold_note(service, session, "rolled back")
        session.rollback()
        # The session's next transaction holds nothing from the last.
        service.record(session)
        session.commit()
    assert service.bodies() == []
    assert service.audit_records() == 1


def test_on_postgresql_held_writes_go_in_the_audit_records_statement_and_the_chain_verifies(
    service: Service,
) -> None:
    with service.sessions() as session:
        service.record(session)
        session.commit()  # the chain's first record
    service.sent.clear()
    with service.sessions() as session:
        service.record(session)
        hold_note(service, session, "a note", prefix="a")
        hold_note(service, session, "a reminder", prefix="b", table=service.reminders)
        session.commit()
    sent = [sql for sql in service.sent if not sql.startswith(("BEGIN", "COMMIT"))]
    assert service.bodies() == ["a note"]
    with service.sessions() as session:
        assert session.scalars(select(service.reminders.c.body)).all() == ["a reminder"]
    assert service.audit_records() == 2
    assert service.chain_verifies()
    if service.on_postgresql:
        [statement] = sent
        for table in ("notes", "reminders", "audit_log"):
            assert f"INSERT INTO {table} " in statement


def test_writes_held_for_one_table_keep_the_order_held(service: Service) -> None:
    # The WITHs of one statement run in no set order: two inserts into one table (events,
    # whose seqs are their order) are sent one after the other instead.
    with service.sessions() as session:
        service.record(session)
        session.commit()
    with service.sessions() as session:
        service.record(session)
        hold_note(service, session, "first", prefix="a")
        hold_note(service, session, "second", prefix="b")
        session.commit()
    assert service.bodies() == ["first", "second"]
    assert service.chain_verifies()


def test_the_first_record_of_a_chain_writes_what_it_carries_once(service: Service) -> None:
    # No chain head yet: the record's one statement writes the held note but not the record,
    # which is then appended the way that makes the head.
    with service.sessions() as session:
        service.record(session)
        hold_note(service, session, "first of all")
        session.commit()
    assert service.bodies() == ["first of all"]
    assert service.audit_records() == 1
    assert service.chain_verifies()


def test_the_same_write_held_twice_is_written_twice_in_the_order_held(service: Service) -> None:
    with service.sessions() as session:
        service.record(session)
        for body in ("one", "two", "three"):
            hold_note(service, session, body)
        session.commit()
    assert service.bodies() == ["one", "two", "three"]
    assert service.chain_verifies()


def test_held_writes_with_no_audit_record_are_written_alone_at_the_commit(service: Service) -> None:
    with service.sessions() as session:
        hold_note(service, session, "unaudited note")
        session.commit()
    assert service.bodies() == ["unaudited note"]
    assert service.audit_records() == 0


def test_a_write_in_a_savepoint_goes_at_once_and_rolls_back_with_it(service: Service) -> None:
    with service.sessions() as session:
        savepoint = session.begin_nested()
        hold_note(service, session, "in the savepoint")
        assert session.scalars(select(service.notes.c.body)).all() == ["in the savepoint"]
        savepoint.rollback()
        session.commit()
    assert service.bodies() == []


def test_holding_in_a_savepoint_while_the_outer_transaction_holds_writes_is_refused(service: Service) -> None:
    if not service.on_postgresql:
        pytest.skip("SQLite holds nothing: every write is sent at once")
    with service.sessions() as session:
        hold_note(service, session, "outer")
        session.begin_nested()
        with pytest.raises(RiderInSavepoint):
            hold_note(service, session, "inner")


def test_what_is_held_can_be_sent_early_for_a_read_that_must_see_it(service: Service) -> None:
    with service.sessions() as session:
        hold_note(service, session, "read back")
        send_held(session)
        assert session.scalars(select(service.notes.c.body)).all() == ["read back"]
        session.commit()
    assert service.bodies() == ["read back"]
