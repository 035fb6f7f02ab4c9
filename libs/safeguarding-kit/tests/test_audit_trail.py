"""The audit trail holds: every record chained to the one before, tampering detected,
concurrent appends never fork the chain (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from safeguarding_kit.audit import (
    GENESIS_HASH,
    AuditTables,
    access_log,
    append_audit,
    audit_tables,
    verify_chain,
)
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import create_db_engine, service_metadata
from safeguarding_kit.throwaway_database import provisioned_database

WORKER = Principal(
    sub="worker-1",
    agency="sheffield-social-care",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.practitioner}),
)
CHILD = uuid.uuid4()


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], AuditTables]]:
    metadata = service_metadata()
    tables = audit_tables(metadata)
    with provisioned_database("audit", tmp_path) as url:
        engine = create_db_engine(url)
        metadata.create_all(engine)
        yield sessionmaker(engine), tables
        engine.dispose()


def append(sessions: sessionmaker[Session], tables: AuditTables, n: int, child_id: uuid.UUID = CHILD) -> None:
    for i in range(n):
        with sessions() as session:
            append_audit(
                session,
                tables,
                principal=WORKER,
                action="read",
                resource_type="child",
                resource_id=str(child_id),
                child_id=child_id,
                detail=f"read {i}",
            )
            session.commit()


def test_an_empty_and_a_fresh_chain_verify(trail):
    sessions, tables = trail
    with sessions() as session:
        assert verify_chain(session, tables).ok
    append(sessions, tables, 3)
    with sessions() as session:
        result = verify_chain(session, tables)
    assert (result.ok, result.checked) == (True, 3)


def test_each_record_links_to_the_one_before(trail):
    sessions, tables = trail
    append(sessions, tables, 3)
    with sessions() as session:
        rows = session.execute(select(tables.log).order_by(tables.log.c.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash


@pytest.mark.parametrize("column", ["actor_sub", "action", "outcome", "detail"])
def test_altering_any_field_of_a_middle_record_is_detected_there(trail, column):
    sessions, tables = trail
    append(sessions, tables, 5)
    with sessions() as session:
        session.execute(update(tables.log).where(tables.log.c.seq == 3).values({column: "tampered"}))
        session.commit()
        result = verify_chain(session, tables)
    assert (result.ok, result.first_broken_seq) == (False, 3)


def test_deleting_a_middle_record_is_detected(trail):
    sessions, tables = trail
    append(sessions, tables, 5)
    with sessions() as session:
        session.execute(delete(tables.log).where(tables.log.c.seq == 2))
        session.commit()
        result = verify_chain(session, tables)
    assert (result.ok, result.first_broken_seq) == (False, 2)


def test_deleting_the_newest_records_is_detected(trail):
    sessions, tables = trail
    append(sessions, tables, 5)
    with sessions() as session:
        session.execute(delete(tables.log).where(tables.log.c.seq >= 4))
        session.commit()
        result = verify_chain(session, tables)
    assert result.ok is False
    assert result.first_broken_seq == 4


def test_a_record_recomputed_by_someone_without_the_rest_of_the_chain_is_detected(trail):
    sessions, tables = trail
    append(sessions, tables, 3)
    with sessions() as session:  # rewrite record 2 and its own hash, but not the links after it
        session.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
        session.commit()
        assert verify_chain(session, tables).first_broken_seq == 2


def test_an_append_rolled_back_with_its_transaction_leaves_no_trace(trail):
    sessions, tables = trail
    append(sessions, tables, 2)
    with sessions() as session:
        append_audit(
            session,
            tables,
            principal=WORKER,
            action="update",
            resource_type="child",
            resource_id=str(CHILD),
            child_id=CHILD,
        )
        session.rollback()
    append(sessions, tables, 1)
    with sessions() as session:
        result = verify_chain(session, tables)
        count = session.scalar(select(func.count()).select_from(tables.log))
    assert (result.ok, count) == (True, 3)


def test_concurrent_appends_from_eight_workers_never_fork_the_chain(trail):
    sessions, tables = trail
    append(sessions, tables, 1)  # the chain head exists before the rush
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: append(sessions, tables, 25), range(8)))
    with sessions() as session:
        result = verify_chain(session, tables)
        seqs = list(session.scalars(select(tables.log.c.seq).order_by(tables.log.c.seq)))
    assert result.ok, result.reason
    assert seqs == list(range(1, 202))


def test_a_childs_access_log_is_theirs_only_newest_first_and_pages(trail):
    sessions, tables = trail
    other = uuid.uuid4()
    append(sessions, tables, 5)
    append(sessions, tables, 2, child_id=other)
    seen: list[int] = []
    cursor = None
    with sessions() as session:
        while True:
            entries, cursor = access_log(session, tables, child_id=CHILD, limit=2, cursor=cursor)
            seen += [e.seq for e in entries]
            assert all(e.child_id == CHILD for e in entries)
            if cursor is None:
                break
    assert seen == [5, 4, 3, 2, 1]
