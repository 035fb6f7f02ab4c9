"""The audit chain as a specification: each record links to the one before, any
changed, deleted or inserted record is found, an audit record lives and dies with
the transaction it records, concurrent appends never fork the chain, and a child's
access log pages newest first. On SQLite, or on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session, registry, sessionmaker

from safeguarding_kit.audit.at_commit import GIVEN, chains_at_commit
from safeguarding_kit.audit.models import CHAIN_COLUMNS, GENESIS_HASH, AuditTables, audit_tables
from safeguarding_kit.audit.service import (
    AuditTrail,
    ChainVerification,
    access_log,
    append_audit,
    append_by_commit,
    append_records,
    audit_values,
    ensure_chain_head,
    record_hash,
    send_with_audit_append,
    verify_chain,
)
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import create_db_engine, service_metadata
from safeguarding_kit.problems import InvalidCursor
from safeguarding_kit.request_context import reset_request_id, set_request_id
from safeguarding_kit.throwaway_database import provisioned_database

OFFICER = Principal(
    sub="pc.amira.khan@south-yorkshire.police.example",
    agency="south-yorkshire-police",
    agency_type=AgencyType.police,
    roles=frozenset({Role.practitioner}),
)
SOCIAL_WORKER = Principal(
    sub="tom.hartley@sheffield.gov.example",
    agency="sheffield-social-care",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.practitioner, Role.risk_assessor}),
)
CHILD = uuid.UUID("5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b")


@dataclass
class Trail:
    """A service's audit tables and one table of its own records, on a fresh database."""

    engine: Engine
    sessions: sessionmaker[Session]
    tables: AuditTables
    case_notes: Table

    def append(
        self,
        n: int = 1,
        *,
        child_id: uuid.UUID | None = CHILD,
        principal: Principal = OFFICER,
        outcome: str = "allowed",
    ) -> list[int]:
        """``n`` read records, each committed in a session of its own; their seqs."""
        seqs: list[int] = []
        for _ in range(n):
            with self.sessions() as session:
                seqs.append(self.read(session, child_id=child_id, principal=principal, outcome=outcome))
                session.commit()
        return seqs

    def read(
        self,
        session: Session,
        *,
        child_id: uuid.UUID | None = CHILD,
        principal: Principal = OFFICER,
        outcome: str = "allowed",
    ) -> int:
        return append_audit(
            session,
            self.tables,
            principal=principal,
            action="read",
            resource_type="child",
            resource_id=str(child_id),
            child_id=child_id,
            outcome=outcome,
        )

    def verify(self, **kwargs: Any) -> ChainVerification:
        with self.sessions() as session:
            return verify_chain(session, self.tables, **kwargs)

    def tamper(self, sql: str, **params: Any) -> None:
        """Run raw SQL behind the audit API's back, as someone with database access could."""
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def alter_record(self, seq: int, column: str, value: Any) -> None:
        """Change one column of one record with a raw UPDATE, the value bound as the column's type."""
        # The column name is one of the log's own (the test's parameter), never input.
        stmt = text(f"UPDATE audit_log SET {column} = :value WHERE seq = :seq")  # noqa: S608
        stmt = stmt.bindparams(bindparam("value", type_=self.tables.log.c[column].type))
        with self.engine.begin() as conn:
            conn.execute(stmt, {"value": value, "seq": seq})

    def rows(self) -> list[Any]:
        with self.sessions() as session:
            return list(session.execute(select(self.tables.log).order_by(self.tables.log.c.seq)).all())


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[Trail]:
    metadata: MetaData = service_metadata()
    tables = audit_tables(metadata)
    case_notes = Table(
        "case_notes",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("child_id", Uuid, nullable=False),
        Column("body", String(200), nullable=False),
    )
    with provisioned_database("audit-chain", tmp_path) as url:
        engine = create_db_engine(url)
        metadata.create_all(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        with sessions() as session:
            chains_at_commit(session)  # asked once per database, not in a test's statements
        yield Trail(engine, sessions, tables, case_notes)
        engine.dispose()


def test_an_empty_chain_and_a_freshly_appended_chain_verify(trail: Trail) -> None:
    empty = trail.verify()
    assert (empty.ok, empty.checked) == (True, 0)

    trail.append(3)

    result = trail.verify()
    assert (result.ok, result.checked, result.first_broken_seq, result.reason) == (True, 3, None, None)


def test_each_appended_record_links_to_the_one_before_and_the_head_holds_the_newest(trail: Trail) -> None:
    assert trail.append(4) == [1, 2, 3, 4]

    rows = trail.rows()
    assert [row.seq for row in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    with trail.sessions() as session:
        head = session.execute(select(trail.tables.head)).one()
    assert (head.id, head.last_seq, head.last_hash) == (1, 4, rows[-1].hash)


def test_a_record_holds_who_acted_for_which_agency_on_what_and_the_request_id(trail: Trail) -> None:
    token = set_request_id("req-7f3a")
    try:
        trail.append(principal=SOCIAL_WORKER, outcome="denied")
    finally:
        reset_request_id(token)

    (row,) = trail.rows()
    assert row.actor_sub == SOCIAL_WORKER.sub
    assert row.actor_agency == "sheffield-social-care"
    assert row.actor_agency_type == "social_care"
    assert row.actor_roles == "practitioner,risk_assessor"
    assert (row.action, row.resource_type, row.resource_id) == ("read", "child", str(CHILD))
    assert (row.child_id, row.request_id, row.outcome) == (CHILD, "req-7f3a", "denied")
    assert row.occurred_at.tzinfo is not None


def test_a_record_hash_is_sha256_of_the_previous_hash_and_the_canonical_json(trail: Trail) -> None:
    trail.append(2)

    second = trail.rows()[1]
    values = {k: v for k, v in second._mapping.items() if k not in ("prev_hash", "hash")}
    assert second.hash == record_hash(second.prev_hash, values)
    assert len(second.hash) == 64


def test_a_record_whose_hash_the_database_works_out_hashes_as_anyone_holding_the_rows_would(
    trail: Trail,
) -> None:
    """On PostgreSQL a single record's seq and hash are worked out by the server as it takes
    the head: the hash must be the one record_hash gives, text outside ASCII included."""
    trail.append()
    values = audit_values(
        trail.tables.log,
        OFFICER,
        action="read",
        resource_type="child",
        resource_id="c-1",
        detail="grant: Zoë's",
    )
    with trail.sessions() as session:
        [seq] = append_records(session, trail.tables, [values])
        session.commit()

    row = trail.rows()[-1]
    assert (row.seq, row.prev_hash) == (seq, trail.rows()[-2].hash)
    stored = {k: v for k, v in row._mapping.items() if k not in ("prev_hash", "hash")}
    assert row.hash == record_hash(row.prev_hash, stored)
    assert trail.verify().ok


def test_a_time_given_in_another_zone_is_recorded_in_utc_and_verifies(trail: Trail) -> None:
    british_summer_time = timezone(timedelta(hours=1))
    with trail.sessions() as session:
        append_audit(
            session,
            trail.tables,
            principal=OFFICER,
            action="read",
            resource_type="child",
            resource_id=str(CHILD),
            child_id=CHILD,
            occurred_at=datetime(2026, 7, 1, 10, 30, tzinfo=british_summer_time),
        )
        session.commit()

    assert trail.rows()[0].occurred_at == datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert trail.verify().ok


TAMPERED_VALUES: dict[str, Any] = {
    "seq": 99,
    "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
    "actor_sub": "someone.else@sheffield.gov.example",
    "actor_agency": "another-agency",
    "actor_agency_type": "health",
    "actor_roles": "auditor",
    "action": "update",
    "resource_type": "referral",
    "resource_id": str(uuid.UUID(int=7)),
    "child_id": uuid.UUID(int=8),
    "request_id": "req-forged",
    "outcome": "denied",
    "detail": "nothing to see",
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("column", sorted(TAMPERED_VALUES))
def test_altering_any_field_of_a_middle_record_fails_verification_at_that_record(
    trail: Trail, column: str
) -> None:
    trail.append(5)

    trail.alter_record(3, column, TAMPERED_VALUES[column])

    result = trail.verify()
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 3, 2), result.reason


def test_rewriting_a_record_with_a_recomputed_hash_breaks_the_link_from_the_next_record(trail: Trail) -> None:
    trail.append(5)
    third = trail.rows()[2]
    forged = {k: v for k, v in third._mapping.items() if k not in ("prev_hash", "hash")}
    forged["outcome"] = "denied"

    trail.tamper(
        "UPDATE audit_log SET outcome = 'denied', hash = :forged WHERE seq = 3",
        forged=record_hash(third.prev_hash, forged),
    )

    result = trail.verify()
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert result.reason == "the link to the previous record is broken"


def test_deleting_a_middle_record_fails_verification_where_it_was(trail: Trail) -> None:
    trail.append(5)

    trail.tamper("DELETE FROM audit_log WHERE seq = 3")

    result = trail.verify()
    assert (result.ok, result.first_broken_seq, result.reason) == (False, 3, "a record is missing")


def test_deleting_the_newest_record_fails_verification_against_the_chain_head(trail: Trail) -> None:
    trail.append(5)

    trail.tamper("DELETE FROM audit_log WHERE seq = 5")

    result = trail.verify()
    assert (result.ok, result.checked, result.first_broken_seq) == (False, 4, 5)
    assert result.reason == "the newest records were removed"


def test_deleting_every_record_fails_verification_against_the_chain_head(trail: Trail) -> None:
    trail.append(3)

    trail.tamper("DELETE FROM audit_log")

    assert (trail.verify().ok, trail.verify().first_broken_seq) == (False, 1)


def test_a_well_formed_record_inserted_past_the_chain_head_fails_verification(trail: Trail) -> None:
    trail.append(3)
    newest = trail.rows()[-1]
    forged = {k: v for k, v in newest._mapping.items() if k not in ("prev_hash", "hash")}
    forged["seq"] = 4
    with trail.engine.begin() as conn:
        conn.execute(
            insert(trail.tables.log).values(
                **forged, prev_hash=newest.hash, hash=record_hash(newest.hash, forged)
            )
        )

    result = trail.verify()
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert result.reason == "records were added past the chain head"


def test_a_record_inserted_before_the_first_fails_verification(trail: Trail) -> None:
    trail.append(2)
    first = trail.rows()[0]
    forged = {k: v for k, v in first._mapping.items() if k not in ("prev_hash", "hash")}
    forged["seq"] = 0
    with trail.engine.begin() as conn:
        conn.execute(
            insert(trail.tables.log).values(
                **forged, prev_hash=GENESIS_HASH, hash=record_hash(GENESIS_HASH, forged)
            )
        )

    result = trail.verify()
    assert (result.ok, result.first_broken_seq) == (False, 0)


def test_a_rewritten_chain_head_fails_verification(trail: Trail) -> None:
    trail.append(3)

    trail.tamper("UPDATE audit_chain_head SET last_hash = :forged", forged="d" * 64)

    result = trail.verify()
    assert (result.ok, result.first_broken_seq) == (False, 3)


def test_verification_walks_the_chain_in_batches_and_finds_tampering_past_the_first_batch(
    trail: Trail,
) -> None:
    trail.append(10)
    assert (trail.verify(batch=3).ok, trail.verify(batch=3).checked) == (True, 10)

    trail.tamper("UPDATE audit_log SET action = 'merge' WHERE seq = 8")

    result = trail.verify(batch=3)
    assert (result.ok, result.checked, result.first_broken_seq) == (False, 7, 8)


def test_the_audit_record_commits_with_the_change_it_records(trail: Trail) -> None:
    with trail.sessions() as session:
        session.execute(
            insert(trail.case_notes).values(
                id=uuid.uuid4(), child_id=CHILD, body="Seen at school with an adult"
            )
        )
        seq = append_audit(
            session,
            trail.tables,
            principal=SOCIAL_WORKER,
            action="create",
            resource_type="case_note",
            resource_id="note-1",
            child_id=CHILD,
        )
        session.commit()

    assert seq == 1
    assert [row.action for row in trail.rows()] == ["create"]
    assert trail.verify().ok


def test_an_append_rolled_back_with_its_transaction_leaves_no_trace_and_the_chain_still_verifies(
    trail: Trail,
) -> None:
    trail.append(2)
    with trail.sessions() as session:
        session.execute(insert(trail.case_notes).values(id=uuid.uuid4(), child_id=CHILD, body="Draft"))
        assert trail.read(session) == 3
        session.rollback()

    assert trail.append() == [3]
    with trail.sessions() as session:
        notes = session.scalar(select(func.count()).select_from(trail.case_notes))
    assert (len(trail.rows()), notes) == (3, 0)
    assert trail.verify().ok


def test_the_first_append_ever_rolled_back_leaves_no_chain_head_behind(trail: Trail) -> None:
    with trail.sessions() as session:
        trail.read(session)
        session.rollback()

    with trail.sessions() as session:
        assert session.execute(select(trail.tables.head)).all() == []
    assert trail.append() == [1]
    assert trail.verify().ok


def test_a_chain_head_created_by_a_migration_is_used_by_the_first_append(trail: Trail) -> None:
    with trail.engine.begin() as conn:
        ensure_chain_head(conn)
        ensure_chain_head(conn)  # a second run changes nothing

    assert trail.append(2) == [1, 2]
    assert trail.verify().ok


def test_eight_workers_appending_25_records_each_at_once_leave_one_unforked_chain_of_200(
    trail: Trail,
) -> None:
    # No chain head yet: the workers also race to create it.
    start = threading.Barrier(8)

    def worker(_: int) -> list[int]:
        start.wait()
        return trail.append(25)

    with ThreadPoolExecutor(max_workers=8) as pool:
        seqs_by_worker = list(pool.map(worker, range(8)))

    all_seqs = [seq for seqs in seqs_by_worker for seq in seqs]
    assert sorted(all_seqs) == list(range(1, 201))  # no seq given twice
    assert [row.seq for row in trail.rows()] == list(range(1, 201))
    result = trail.verify()
    assert (result.ok, result.checked) == (True, 200), result.reason


def test_a_childs_access_log_holds_only_their_records_newest_first_across_pages(trail: Trail) -> None:
    other_child = uuid.uuid4()
    trail.append(2)
    trail.append(2, child_id=other_child)
    trail.append(principal=SOCIAL_WORKER, outcome="denied")
    trail.append(child_id=None)
    trail.append(2)

    seen: list[int] = []
    pages = 0
    cursor: str | None = None
    with trail.sessions() as session:
        while True:
            entries, cursor = access_log(session, trail.tables, child_id=CHILD, limit=2, cursor=cursor)
            pages += 1
            assert all(entry.child_id == CHILD for entry in entries)
            seen += [entry.seq for entry in entries]
            if cursor is None:
                break

    assert seen == [8, 7, 5, 2, 1]
    assert pages == 3
    with trail.sessions() as session:
        (refusal,) = [
            e
            for e in access_log(session, trail.tables, child_id=CHILD, limit=10, cursor=None)[0]
            if e.outcome == "denied"
        ]
    assert (refusal.seq, refusal.actor_agency_type) == (5, "social_care")


def test_a_childs_access_log_entry_is_a_response_body_in_utc(trail: Trail) -> None:
    trail.append()

    with trail.sessions() as session:
        (entry,), next_cursor = access_log(session, trail.tables, child_id=CHILD, limit=5, cursor=None)

    assert next_cursor is None
    body = entry.model_dump(mode="json")
    assert body["child_id"] == str(CHILD)
    assert body["occurred_at"].endswith(("Z", "+00:00"))
    assert "hash" not in body


# Not base64, "nope", "-1", "0", not ASCII, and a number no seq could be.
@pytest.mark.parametrize(
    "cursor", ["not-a-cursor!", "bm9wZQ", "LTE", "MA", "é", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"]
)
def test_a_cursor_the_access_log_did_not_issue_is_refused(trail: Trail, cursor: str) -> None:
    with trail.sessions() as session, pytest.raises(InvalidCursor):
        access_log(session, trail.tables, child_id=CHILD, limit=2, cursor=cursor)


@pytest.mark.parametrize(
    ("field", "value"),
    [("outcome", "maybe"), ("detail", "x" * 256), ("resource_id", "r" * 65)],
)
def test_a_record_that_does_not_fit_the_log_is_refused_before_the_chain_moves(
    trail: Trail, field: str, value: str
) -> None:
    kwargs: dict[str, Any] = {"resource_id": str(CHILD), field: value}
    with trail.sessions() as session, pytest.raises(ValueError, match=field):
        append_audit(session, trail.tables, principal=OFFICER, action="read", resource_type="child", **kwargs)

    assert trail.append() == [1]


def test_a_naive_time_is_refused(trail: Trail) -> None:
    with trail.sessions() as session, pytest.raises(ValueError, match="naive"):
        append_audit(
            session,
            trail.tables,
            principal=OFFICER,
            action="read",
            resource_type="child",
            resource_id=str(CHILD),
            occurred_at=datetime(2026, 11, 25, 9, 0),  # no tzinfo: the point of the test
        )


def test_a_services_records_are_appended_when_it_commits_in_order_under_one_take_of_the_head(
    trail: Trail,
) -> None:
    # What a list page does: one record per referral shown, appended as the request's last
    # writes, so the chain head is locked only while the transaction commits.
    service_trail = AuditTrail(trail.tables)
    children = [uuid.uuid4() for _ in range(25)]
    with trail.sessions() as session:
        for child in children:
            service_trail.record(session, SOCIAL_WORKER, "list", "referral", child, child)
        with trail.engine.connect() as other:
            head = other.execute(select(trail.tables.head.c.last_seq)).scalar()
        assert head in (None, 0)  # nothing taken yet: another request's append would not wait
        session.commit()
    rows = trail.rows()
    assert [row.child_id for row in rows] == children
    assert [row.seq for row in rows] == list(range(1, 26))
    assert trail.verify().ok


def test_a_services_records_are_gone_when_its_transaction_rolls_back(trail: Trail) -> None:
    service_trail = AuditTrail(trail.tables)
    with trail.sessions() as session:
        service_trail.record(session, OFFICER, "create", "case_note", CHILD, CHILD)
        session.rollback()
        service_trail.record(session, OFFICER, "read", "child", CHILD, CHILD)
        session.commit()
    assert [row.action for row in trail.rows()] == ["read"]
    assert trail.verify().ok


def test_a_record_a_service_cannot_store_is_refused_when_recorded_not_at_commit(trail: Trail) -> None:
    service_trail = AuditTrail(trail.tables)
    with trail.sessions() as session, pytest.raises(ValueError, match="resource_type"):
        service_trail.record(session, OFFICER, "read", "x" * 61, CHILD, CHILD)


def test_a_change_made_through_the_session_is_written_before_the_chain_head_is_taken(
    trail: Trail,
) -> None:
    """The chain head is the last lock a transaction takes: a change still unflushed in the
    session when it commits is written first, and only the append and the commit follow
    the head is taken, so every other append of the service waits only for those (and no
    lock cycle runs through the head). On PostgreSQL the record is staged by one statement
    that takes no lock, and the commit chains it (the head locked only inside the commit);
    SQLite needs three statements, the first taking the head."""

    class CaseNote:
        def __init__(self, **values: Any) -> None:
            self.__dict__.update(values)

    registry().map_imperatively(CaseNote, trail.case_notes)
    trail.append()  # the chain head exists, as it does after a service's migrations
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(trail.engine, "before_cursor_execute", remember)
    # As the services' sessions (safeguarding_kit.db.Database): no flush before each statement.
    with trail.sessions(autoflush=False) as session:
        session.add(CaseNote(id=uuid.uuid4(), child_id=CHILD, body="Seen at school with an adult"))
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "case_note", "note-1", CHILD)
        session.commit()
    event.remove(trail.engine, "before_cursor_execute", remember)

    done = [_verb_and_table(statement) for statement in statements]
    if trail.engine.dialect.name == "postgresql":
        assert done[-2:] == ["INSERT case_notes", "INSERT audit_pending"]
        assert not any(part in statements[-1] for part in ("FOR UPDATE", "audit_log", "audit_chain_head"))
    else:
        bump = done.index("UPDATE audit_chain_head")
        assert done.index("INSERT case_notes") < bump
        assert done[bump:] == ["UPDATE audit_chain_head", "INSERT audit_log", "UPDATE audit_chain_head"]
    assert [row.action for row in trail.rows()] == ["read", "create"]
    assert trail.verify().ok


def _verb_and_table(statement: str) -> str:
    """``INSERT audit_log``, ``UPDATE audit_chain_head``: what a statement does, and to what."""
    words = statement.split()
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    if words[0] in ("UPDATE", "WITH"):
        return f"{words[0]} {words[1]}"
    return words[0]


def test_on_postgresql_every_append_sends_the_same_statement(trail: Trail) -> None:
    """Whatever the number of records in a group (a few reads, dozens), the append after the
    head's bump is one text, its records bound as arrays: compiled once by SQLAlchemy and
    prepared once by the server, not built and parsed again for each group. A single
    record (a change's) is one statement of its own, also always the same text."""
    if trail.engine.dialect.name != "postgresql":
        pytest.skip("SQLite appends with an insert and an update (no DML in a WITH)")
    trail.append()
    appends: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("WITH"):
            appends.append(statement)

    event.listen(trail.engine, "before_cursor_execute", remember)
    for records in (1, 3, 40, 1):
        values = [
            audit_values(
                trail.tables.log, OFFICER, action="list", resource_type="child", resource_id=f"c-{n}"
            )
            for n in range(records)
        ]
        with trail.sessions() as session:
            append_records(session, trail.tables, values)
            session.commit()
    event.remove(trail.engine, "before_cursor_execute", remember)

    single, group, _, single_again = appends
    assert (single_again, appends.count(group)) == (single, 2)
    assert trail.verify().ok


@pytest.mark.parametrize("records", [1, 2, 21, 250])
def test_appends_of_any_size_chain_on(trail: Trail, records: int) -> None:
    """One record, as a change appends, up to a large group of list reads: each append,
    in the one statement PostgreSQL takes for any number of records, continues the chain
    from the head and moves the head on to its last record, so the next append chains on
    from there."""
    trail.append()
    values = [
        audit_values(trail.tables.log, OFFICER, action="list", resource_type="child", resource_id=f"c-{n}")
        for n in range(records)
    ]
    with trail.sessions() as session:
        seqs = append_records(session, trail.tables, values)
        session.commit()
    trail.append()

    assert seqs == list(range(2, records + 2))
    assert [row.seq for row in trail.rows()] == list(range(1, records + 3))
    assert trail.verify().ok


def _note_written(trail: Trail) -> tuple[Any, Any]:
    """An insert of a case note built once (as a rider must be), its values bound by names of its own."""
    statement = insert(trail.case_notes).values(
        id=bindparam("note_id"), child_id=bindparam("note_child_id"), body=bindparam("note_body")
    )
    return statement, lambda body: {"note_id": uuid.uuid4(), "note_child_id": CHILD, "note_body": body}


def _sent_during(trail: Trail) -> list[str]:
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
            sent.append(_verb_and_table(statement))

    event.listen(trail.engine, "before_cursor_execute", remember)
    return sent


def test_a_write_sent_with_the_audit_append_goes_in_its_statement_and_commits_with_it(
    trail: Trail,
) -> None:
    """An idempotent request's stored answer is written with the change's audit record: on
    PostgreSQL as part of the statement staging the record, a round trip fewer; on SQLite
    on its own before the append. Either way it commits with the record, and the chain
    verifies."""
    trail.append()  # the chain head exists
    statement, values = _note_written(trail)
    sent = _sent_during(trail)
    with trail.sessions() as session:
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "referral", "r-1", CHILD)
        send_with_audit_append(session, statement, values("the first answer"))
        session.commit()
    if trail.engine.dialect.name == "postgresql":
        assert sent == ["WITH rider_0"]
    else:
        assert sent[0] == "INSERT case_notes"
    with trail.sessions() as session:
        assert session.scalars(select(trail.case_notes.c.body)).all() == ["the first answer"]
    assert [row.action for row in trail.rows()] == ["read", "create"]
    assert trail.verify().ok


def test_a_write_sent_with_the_audit_append_is_gone_when_the_transaction_rolls_back(trail: Trail) -> None:
    """Rolled back with the record it was to go with, and not carried by the next commit."""
    trail.append()
    statement, values = _note_written(trail)
    with trail.sessions() as session:
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "referral", "r-1", CHILD)
        send_with_audit_append(session, statement, values("never stored"))
        session.rollback()
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "read", "referral", "r-1", CHILD)
        session.commit()
    with trail.sessions() as session:
        assert session.scalars(select(trail.case_notes.c.body)).all() == []
    assert [row.action for row in trail.rows()] == ["read", "read"]
    assert trail.verify().ok


def test_a_write_with_no_record_to_go_with_is_sent_at_once(trail: Trail) -> None:
    statement, values = _note_written(trail)
    sent = _sent_during(trail)
    with trail.sessions() as session:
        send_with_audit_append(session, statement, values("sent now"))
        assert sent == ["INSERT case_notes"]
        session.commit()
    with trail.sessions() as session:
        assert session.scalars(select(trail.case_notes.c.body)).all() == ["sent now"]


@pytest.mark.parametrize("records", [0, 1, 3], ids=["no head yet", "one record", "three records"])
def test_a_write_sent_with_the_audit_append_is_written_once_however_the_records_are_appended(
    trail: Trail, records: int
) -> None:
    """The first append ever (no chain head yet: the append's statement finds none and the
    head is made), or several records under one take of the head: the write is stored once,
    and the chain verifies."""
    if records:
        trail.append()
    statement, values = _note_written(trail)
    with trail.sessions() as session:
        for n in range(max(records, 1)):
            AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "list", "referral", f"r-{n}", CHILD)
        send_with_audit_append(session, statement, values("stored once"))
        session.commit()
    with trail.sessions() as session:
        assert session.scalars(select(trail.case_notes.c.body)).all() == ["stored once"]
    assert len(trail.rows()) == (1 if records else 0) + max(records, 1)
    assert trail.verify().ok


def test_the_same_write_sent_twice_with_the_audit_append_is_stored_twice_with_each_its_values(
    trail: Trail,
) -> None:
    """Two first answers stored in one transaction: the second goes on its own, as one
    statement with two WITHs of it would bind both to the same values."""
    trail.append()
    statement, values = _note_written(trail)
    with trail.sessions() as session:
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "referral", "r-1", CHILD)
        send_with_audit_append(session, statement, values("the first"))
        send_with_audit_append(session, statement, values("the second"))
        session.commit()
    with trail.sessions() as session:
        stored = session.scalars(select(trail.case_notes.c.body).order_by(trail.case_notes.c.body)).all()
    assert stored == ["the first", "the second"]
    assert trail.verify().ok


def test_a_write_whose_values_are_named_as_the_audit_logs_columns_is_refused(trail: Trail) -> None:
    if trail.engine.dialect.name != "postgresql":
        pytest.skip("SQLite sends the write on its own: nothing to collide with")
    statement = insert(trail.case_notes).values(
        id=bindparam("note_id"), child_id=bindparam("child_id"), body=bindparam("note_body")
    )
    with trail.sessions() as session:
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "referral", "r-1", CHILD)
        with pytest.raises(ValueError, match=r"names its values apart: \['child_id'\]"):
            send_with_audit_append(
                session, statement, {"note_id": uuid.uuid4(), "child_id": CHILD, "note_body": "x"}
            )


def test_a_write_sent_with_the_audit_append_inside_a_savepoint_rolled_back_is_gone(trail: Trail) -> None:
    """Sent at once inside a savepoint, so rolling the savepoint back takes it back."""
    trail.append()
    statement, values = _note_written(trail)
    with trail.sessions() as session:
        AuditTrail(trail.tables).record(session, SOCIAL_WORKER, "create", "referral", "r-1", CHILD)
        savepoint = session.begin_nested()
        send_with_audit_append(session, statement, values("taken back"))
        savepoint.rollback()
        send_with_audit_append(session, statement, values("kept"))
        session.commit()
    with trail.sessions() as session:
        assert session.scalars(select(trail.case_notes.c.body)).all() == ["kept"]
    assert trail.verify().ok


def test_the_commit_copies_every_column_of_a_staged_record_into_the_log() -> None:
    """The trigger's list of columns is frozen with its version: it is the log's, less the
    three the chain fills, and the staging table's. A column added to the log must come with
    a new version of the trigger, or the commit would drop it."""
    tables = audit_tables(MetaData())
    assert list(GIVEN) == [column.name for column in tables.log.c if column.name not in CHAIN_COLUMNS]
    assert [column.name for column in tables.pending.c] == ["id", *GIVEN, "canonical_before_seq"]


def _staged_record(trail: Trail, resource_id: str, *, detail: str | None = None) -> list[dict[str, Any]]:
    return [
        audit_values(
            trail.tables.log,
            SOCIAL_WORKER,
            action="create",
            resource_type="case_note",
            resource_id=resource_id,
            child_id=CHILD,
            detail=detail,
        )
    ]


def _staged_rows_left(trail: Trail) -> int:
    with trail.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(trail.tables.pending)) or 0)


@pytest.fixture
def chained_at_commit(trail: Trail) -> Trail:
    if trail.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL chains at commit; SQLite has one writer and appends in the transaction")
    return trail


def test_a_transaction_holds_the_chain_head_only_inside_its_commit(chained_at_commit: Trail) -> None:
    """A request's record is staged, and its commit chains it. Until that commit its
    transaction holds no lock on the head: another append commits meanwhile (here within a
    one-second lock timeout, where it would otherwise wait for the whole transaction), and
    the staged record takes the next seq when its own transaction commits."""
    trail = chained_at_commit
    trail.append()
    with trail.sessions() as staging:
        append_by_commit(staging, trail.tables, _staged_record(trail, "note-1"))
        assert [row.seq for row in trail.rows()] == [1]  # not in the log before its commit
        with trail.sessions() as other:
            other.execute(text("SET LOCAL lock_timeout = '1s'"))
            trail.read(other)
            other.commit()
        staging.commit()
    assert [(row.seq, row.action) for row in trail.rows()] == [(1, "read"), (2, "read"), (3, "create")]
    assert _staged_rows_left(trail) == 0
    assert trail.verify().ok


def test_records_staged_in_a_transaction_or_savepoint_rolled_back_leave_nothing(
    chained_at_commit: Trail,
) -> None:
    """Nothing of a rolled-back transaction's records reaches the log or stays staged, and
    a savepoint rolled back takes its records back while the transaction's others commit."""
    trail = chained_at_commit
    trail.append()
    with trail.sessions() as session:
        append_by_commit(session, trail.tables, _staged_record(trail, "rolled-back"))
        session.rollback()
    with trail.sessions() as session:
        append_by_commit(session, trail.tables, _staged_record(trail, "kept"))
        savepoint = session.begin_nested()
        append_by_commit(session, trail.tables, _staged_record(trail, "in-a-savepoint"))
        savepoint.rollback()
        session.commit()
    trail.append()
    assert [(row.seq, row.resource_id) for row in trail.rows()][1:] == [(2, "kept"), (3, str(CHILD))]
    assert _staged_rows_left(trail) == 0
    assert trail.verify().ok


def test_the_chain_s_first_record_staged_makes_its_head_and_hashes_as_python_does(
    chained_at_commit: Trail,
) -> None:
    """No head yet (a fresh database): the commit makes it. The server's hash of a staged
    record is record_hash's, whatever the text (here a detail beyond ASCII and quoted)."""
    trail = chained_at_commit
    with trail.sessions() as session:
        append_by_commit(session, trail.tables, _staged_record(trail, "first", detail='vu à l\'école "x"'))
        session.commit()
    [row] = trail.rows()
    assert (row.seq, row.prev_hash) == (1, GENESIS_HASH)
    assert row.hash == record_hash(GENESIS_HASH, dict(row._mapping))
    assert trail.verify().ok


def test_transactions_committing_at_once_chain_their_records_whole_and_in_order(
    chained_at_commit: Trail,
) -> None:
    """Eight transactions, each staging three records, commit at the same time: the chain
    verifies, and each transaction's records hold consecutive seqs in the order it staged
    them (the head's lock is taken by the first of them and held to the commit's end)."""
    trail = chained_at_commit
    trail.append()
    start = threading.Barrier(8)

    def transaction(n: int) -> None:
        with trail.sessions() as session:
            for part in range(3):
                append_by_commit(session, trail.tables, _staged_record(trail, f"t{n}-{part}"))
            start.wait(timeout=10)
            session.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(transaction, range(8)))
    rows = trail.rows()[1:]
    assert len(rows) == 24
    for first in range(0, 24, 3):
        run = [row.resource_id for row in rows[first : first + 3]]
        name = run[0].split("-")[0]
        assert run == [f"{name}-0", f"{name}-1", f"{name}-2"]
    assert _staged_rows_left(trail) == 0
    assert trail.verify().ok
