"""The append-only, hash-chained audit trail each service keeps of every read and
write of a child's record (README, "The referral service in brief": Audit).

Each record's hash covers its content and the previous record's hash, so changing,
deleting or inserting any record breaks the chain from there on; a one-row chain
head holds the newest seq and hash, so removing the newest records shows too.

Appends are serialised through that head: an append first bumps it with an UPDATE,
which takes a row lock on PostgreSQL and the write lock on SQLite until the
appending transaction ends. The chain never forks, and an append rolled back with
its transaction leaves no trace. Because the lock is held until commit, append as
the last statement of a transaction and commit straight after: the head is then
always the last lock a transaction takes (no deadlock cycle through it) and other
appends wait only for the commit. :meth:`AuditTrail.record`, what the services call,
does that for them: it keeps the request's records with the session and appends them,
all under one take of the head, when the session commits. On PostgreSQL it hands them to
the commit itself (:mod:`safeguarding_kit.audit.at_commit`), so the head is locked only
inside the server's commit, never while the service has the next statement to send.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    MetaData,
    String,
    Table,
    Update,
    bindparam,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import ReturningUpdate, UpdateBase

from safeguarding_kit.audit import at_commit
from safeguarding_kit.audit.group_commit import groups_for
from safeguarding_kit.audit.models import GENESIS_HASH, HEAD_ID, AuditTables, audit_tables
from safeguarding_kit.audit.schemas import AuditEntry
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import unnested, utc_now
from safeguarding_kit.problems import InvalidCursor
from safeguarding_kit.request_context import current_request_id

OUTCOMES = frozenset({"allowed", "denied"})

# The columns a record's hash covers, named here rather than read off the table so
# that adding a column later cannot silently change the hashes of records already written.
_HASHED = (
    "seq",
    "occurred_at",
    "actor_sub",
    "actor_agency",
    "actor_agency_type",
    "actor_roles",
    "action",
    "resource_type",
    "resource_id",
    "child_id",
    "request_id",
    "outcome",
    "detail",
)


def _canonical(values: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    return json.dumps({k: plain(values[k]) for k in _HASHED}, sort_keys=True, separators=(",", ":"))


def record_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """The hash of one record: sha256 (hex) of the previous record's hash followed by
    the record's canonical JSON (sorted keys, no spaces, UTC ISO-8601 times, UUIDs as
    strings), so anyone holding the rows can recompute it."""
    return hashlib.sha256((prev_hash + _canonical(values)).encode()).hexdigest()


def ensure_chain_head(connection: Connection | Session) -> None:
    """Create the chain head if it is missing (for a migration: ``ensure_chain_head(op.get_bind())``).

    Optional: the first append creates it too."""
    head = audit_tables(MetaData()).head
    if connection.execute(select(head.c.id).where(head.c.id == HEAD_ID)).first() is None:
        connection.execute(insert(head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))


@functools.cache
def _bump(head: Table) -> ReturningUpdate[tuple[int, str]]:
    # One round trip: the bump takes the lock and answers the moved head (RETURNING, which
    # PostgreSQL and SQLite 3.35+ both have). Built once per table.
    return (
        update(head)
        .where(head.c.id == HEAD_ID)
        .values(last_seq=head.c.last_seq + bindparam("count", type_=BigInteger))
        .returning(head.c.last_seq, head.c.last_hash)
    )


def _take_head(session: Session, tables: AuditTables, count: int = 1) -> tuple[int, str]:
    """Move the head on by ``count`` records: the seq of the last of them and the hash of
    the record before the first; the head stays locked by this transaction until it ends."""
    head = tables.head
    bump = _bump(head)
    for _ in range(2):
        row = session.execute(bump, {"count": count}).first()
        if row is not None:
            return int(row.last_seq), str(row.last_hash)
        # The first append to this log creates the head. Another session may be doing
        # the same: the primary key lets one insert win; the loser's savepoint rolls
        # back (keeping the caller's transaction) and its second UPDATE waits on the
        # winner's row.
        savepoint = session.begin_nested()
        try:
            session.execute(insert(head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))
        except IntegrityError:
            savepoint.rollback()
        else:
            savepoint.commit()
    raise RuntimeError("the audit chain head could not be created or locked")


def _check_lengths(log: Table, values: dict[str, Any]) -> None:
    # PostgreSQL refuses an over-long value and SQLite stores it: refuse it on both alike.
    for name, value in values.items():
        length = getattr(log.c[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            raise ValueError(f"audit {name} is longer than {length} characters")


def audit_values(
    log: Table,
    principal: Principal,
    *,
    action: str,
    resource_type: str,
    resource_id: str,
    child_id: uuid.UUID | None = None,
    outcome: str = "allowed",
    detail: str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """One record's columns for ``log`` (with the current request's id), checked:
    ``ValueError`` for an unknown outcome, a naive ``occurred_at`` or a value longer than
    its column."""
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {sorted(OUTCOMES)}, not {outcome!r}")
    when = occurred_at or utc_now()
    if when.tzinfo is None:
        raise ValueError("naive occurred_at given; audit times are aware UTC times")
    values: dict[str, Any] = {
        "occurred_at": when.astimezone(UTC),
        "actor_sub": principal.sub,
        "actor_agency": principal.agency,
        "actor_agency_type": str(principal.agency_type),
        "actor_roles": ",".join(sorted(str(role) for role in principal.roles)),
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "child_id": child_id,
        "request_id": current_request_id(),
        "outcome": outcome,
        "detail": detail,
    }
    # Checked before the head is taken, so a bad record never holds the lock.
    _check_lengths(log, values)
    return values


@functools.cache
def _set_last_hash(head: Table) -> Update:
    # Built once, its value given at execution.
    return update(head).where(head.c.id == HEAD_ID).values(last_hash=bindparam("last_hash"))


@functools.cache
def _append_from_arrays(log: Table, head: Table) -> Update:
    """PostgreSQL: the records' insert, from one array per column (``unnest`` side by side
    gives one row per record), as a data-modifying WITH of the head's update. One statement
    whatever the number of records, and always the same one: SQLAlchemy compiles it once
    and the server prepares it, where a multi-row VALUES was compiled on every append (it
    cannot be cached) and sent as a new text for each number of records."""
    columns = list(log.c)
    rows = select(*(unnested(column.name, column.type) for column in columns))
    appended = insert(log).from_select([column.name for column in columns], rows).cte("appended")
    return _set_last_hash(head).add_cte(appended)


def _canonical_before_seq(values: dict[str, Any]) -> str | None:
    """The record's canonical JSON up to its seq's digits: the seq sorts last among the
    hashed keys, so the whole is this, the seq, and ``}``. None if that ever stops holding."""
    text = _canonical({**values, "seq": 0})
    before, found, after = text.rpartition('"seq":0}')
    return before + '"seq":' if found and not after else None


@functools.cache
def _append_one_on_the_server(log: Table, head: Table) -> ReturningUpdate[int]:
    """PostgreSQL: one record appended in one statement, its seq and hash worked out by the
    server from the head it locks (``SELECT ... FOR UPDATE``, which in READ COMMITTED waits
    for a concurrent append's commit and then takes the head as that left it): the record
    takes the next seq and the head's hash as its prev_hash, its hash is the sha256 (hex)
    of that prev_hash, its canonical JSON up to the seq (``canonical_before_seq``, made
    here in Python), the seq and ``}``, exactly as :func:`record_hash` computes it; the head
    moves on to it. One round trip where taking the head and appending were two, and the
    head is locked from this statement to the commit. Nothing happens (no row answered)
    when the chain has no head yet. Built once per table."""
    old = select(head.c.last_seq, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update().cte("old")
    seq = old.c.last_seq + 1
    hashed_text = func.concat(old.c.last_hash, bindparam("canonical_before_seq", type_=String()), seq, "}")
    digest = func.encode(func.sha256(func.convert_to(hashed_text, "UTF8")), "hex")
    given = [column for column in log.c if column.name not in ("seq", "prev_hash", "hash")]
    row = select(
        *(unnested(column.name, column.type) for column in given), seq, old.c.last_hash, digest
    ).select_from(old)
    appended = (
        insert(log)
        .from_select([*(column.name for column in given), "seq", "prev_hash", "hash"], row)
        .returning(log.c.seq, log.c.hash)
        .cte("appended")
    )
    return (
        update(head)
        .where(head.c.id == HEAD_ID)
        .values(
            last_seq=select(appended.c.seq).scalar_subquery(),
            last_hash=select(appended.c.hash).scalar_subquery(),
        )
        .returning(head.c.last_seq)
    )


def _append_one(
    session: Session, tables: AuditTables, values: dict[str, Any], riders: list[Rider] | None = None
) -> int | None:
    """:func:`_append_one_on_the_server` for one record (with ``riders``' writes as WITHs
    of it, which are then taken off the list: they went with the statement, whatever it
    answered); its seq, or None when the chain has no head yet (or the record's canonical
    form cannot be split at its seq)."""
    before_seq = _canonical_before_seq(values)
    if before_seq is None:
        return None
    parameters: dict[str, Any] = {name: [value] for name, value in values.items()}
    statement = _carrying(_append_one_on_the_server(tables.log, tables.head), parameters, riders)
    seq = session.scalar(statement, {**parameters, "canonical_before_seq": before_seq})
    return None if seq is None else int(seq)


@dataclass(frozen=True)
class Rider:
    """A write sent with the audit append (:func:`send_with_audit_append`): its statement,
    built once, and its values, named as its own bind parameters."""

    statement: UpdateBase
    parameters: dict[str, Any]


_Append = TypeVar("_Append", bound=UpdateBase)

# Riders kept with a session until its commit's audit append takes them.
_RIDERS = "safeguarding_kit.audit.riders"


def send_with_audit_append(session: Session, statement: UpdateBase, parameters: dict[str, Any]) -> None:
    """Send ``statement`` (an INSERT, UPDATE or DELETE built once, its bind parameters named
    apart from the audit log's columns) in this transaction, on PostgreSQL as a
    data-modifying WITH of the audit record the commit appends: a round trip fewer for a
    write nothing reads before the commit (an idempotent request's stored answer). It is
    sent now, on its own, when no record waits for the commit or on SQLite. Where the
    database does not chain at commit it runs while the chain head is locked, so keep it to
    a row or two. Inside a savepoint it is sent now too, so that rolling the savepoint back
    takes it back."""
    pending: list[tuple[AuditTables, dict[str, Any]]] = session.info.get(_PENDING, [])
    riders: list[Rider] = session.info.get(_RIDERS, [])
    if (
        not pending
        or session.get_bind().dialect.name != "postgresql"
        or session.in_nested_transaction()
        # The same statement twice would bind both WITHs to one set of values.
        or any(rider.statement is statement for rider in riders)
    ):
        session.execute(statement, parameters)
        return
    taken = set(parameters) & ({"canonical_before_seq"} | set(pending[0][0].log.c.keys()))
    if taken:
        raise ValueError(f"a write sent with the audit append names its values apart: {sorted(taken)}")
    session.info[_RIDERS] = [*riders, Rider(statement, parameters)]


@functools.lru_cache(maxsize=64)
def _with_riders(append: _Append, riders: tuple[UpdateBase, ...]) -> _Append:
    # Built once for each set of riders, so SQLAlchemy compiles it once and the server
    # prepares it once, as the append alone.
    return append.add_cte(*(rider.cte(f"rider_{n}") for n, rider in enumerate(riders)))


def _carrying(append: _Append, parameters: dict[str, Any], riders: list[Rider] | None) -> _Append:
    """``append`` with ``riders``' writes as WITHs of it, their values added to
    ``parameters`` (named apart from the log's: :func:`send_with_audit_append`); the riders
    are taken off the list, as they go with the statement whatever it answers."""
    if not riders:
        return append
    carrying: _Append = _with_riders(append, tuple(rider.statement for rider in riders))
    for rider in riders:
        parameters.update(rider.parameters)
    riders.clear()
    return carrying


def _send_riders_alone(session: Session, riders: list[Rider]) -> None:
    for rider in riders:
        session.execute(rider.statement, rider.parameters)
    riders.clear()


def append_records(
    session: Session, tables: AuditTables, records: list[dict[str, Any]], riders: list[Rider] | None = None
) -> list[int]:
    """Append ``records`` (from :func:`audit_values`) in order under one take of the chain
    head, in the caller's transaction; returns their seqs. On PostgreSQL one record (a
    request's usual one) is one statement (:func:`_append_one_on_the_server`), and
    ``riders`` (:func:`send_with_audit_append`) go in it; otherwise they are sent first,
    each on its own. Either way they are taken off the list."""
    riders = riders if riders is not None else []
    if len(records) == 1 and session.get_bind().dialect.name == "postgresql":
        seq = _append_one(session, tables, records[0], riders)
        if seq is not None:
            return [seq]
    _send_riders_alone(session, riders)
    if not records:
        return []
    last_seq, prev_hash = _take_head(session, tables, len(records))
    first_seq = last_seq - len(records) + 1
    rows = []
    for seq, values in enumerate(records, start=first_seq):
        row = {**values, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = record_hash(row["prev_hash"], row)
        rows.append(row)
    _write_records(session, tables, rows, prev_hash)
    return [row["seq"] for row in rows]


def append_by_commit(
    session: Session, tables: AuditTables, records: list[dict[str, Any]], riders: list[Rider] | None = None
) -> None:
    """Append ``records`` (from :func:`audit_values`) in the caller's transaction, so that
    they are chained, in order, when it commits. On PostgreSQL, once the database chains at
    commit (:mod:`~safeguarding_kit.audit.at_commit`), they are staged in one statement,
    with ``riders``' writes as WITHs of it, and the commit chains them: the head is locked
    only inside the commit. Otherwise as :func:`append_records`, now. The riders are taken
    off the list either way."""
    if records and at_commit.chains_at_commit(session):
        before_seq = [_canonical_before_seq(values) for values in records]
        if None not in before_seq:
            parameters = at_commit.staged_parameters(
                list(zip(records, cast(list[str], before_seq), strict=True))
            )
            session.execute(_carrying(at_commit.staged(tables.pending), parameters, riders), parameters)
            return
    append_records(session, tables, records, riders)


def _write_records(session: Session, tables: AuditTables, rows: list[dict[str, Any]], last_hash: str) -> None:
    """Insert the chained ``rows`` and move the head's hash on to the last of them. On
    PostgreSQL in one statement (:func:`_append_from_arrays`), so the head stays locked for
    one round trip fewer; SQLite has no DML in a WITH: an insert of the rows and an update."""
    if session.get_bind().dialect.name == "postgresql":
        columns = {column.name: [row[column.name] for row in rows] for column in tables.log.c}
        session.execute(_append_from_arrays(tables.log, tables.head), {**columns, "last_hash": last_hash})
        return
    session.execute(insert(tables.log), rows)
    session.execute(_set_last_hash(tables.head), {"last_hash": last_hash})


def append_audit(
    session: Session,
    tables: AuditTables,
    *,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: str,
    child_id: uuid.UUID | None = None,
    outcome: str = "allowed",
    detail: str | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Append one record (with the current request's id) now and return its seq.

    It does not commit: the record joins the caller's transaction, so it commits or
    rolls back with the change it records. For a read or a refusal, where nothing
    else is written, append after the reads and commit right after, which also
    releases the chain head for the next append. Raises ``ValueError`` for an unknown
    outcome, a naive ``occurred_at`` or a value longer than its column."""
    values = audit_values(
        tables.log,
        principal,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        child_id=child_id,
        outcome=outcome,
        detail=detail,
        occurred_at=occurred_at,
    )
    [seq] = append_records(session, tables, [values])
    return seq


# Records kept with a session until it commits: (the trail's tables, the record's columns).
_PENDING = "safeguarding_kit.audit.pending"


@event.listens_for(Session, "before_commit")
def _append_pending_records(session: Session) -> None:
    pending: list[tuple[AuditTables, dict[str, Any]]] = session.info.pop(_PENDING, [])
    riders: list[Rider] = session.info.pop(_RIDERS, [])
    if pending:
        # Write the change first: the append takes the chain head's lock until the commit,
        # and every other append of the service waits for it. Flushed here, the change's
        # statements run before the lock is taken, and only the append and the commit after.
        session.flush()
    by_trail: dict[int, tuple[AuditTables, list[dict[str, Any]]]] = {}
    for tables, values in pending:
        by_trail.setdefault(id(tables), (tables, []))[1].append(values)
    for tables, records in by_trail.values():
        append_by_commit(session, tables, records, riders)  # the riders go with the first
    _send_riders_alone(session, riders)  # no record to go with


@event.listens_for(Session, "after_transaction_end")
def _forget_records_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_PENDING, None)
        session.info.pop(_RIDERS, None)


@dataclass(frozen=True)
class ChainVerification:
    """The result of :func:`verify_chain`: ``ok``, how many records were checked, and
    where and why the chain first breaks when it does."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


def _records(session: Session, log: Table, batch: int, after: int = 0) -> Iterator[Row[Any]]:
    """Every record after seq ``after`` in seq order, ``batch`` at a time (keyset, so
    memory stays flat)."""
    # From the start, no lower bound on the first batch: a record slipped in below seq 1 must be seen.
    bound: int | None = after or None
    while True:
        stmt = select(log).order_by(log.c.seq).limit(batch)
        if bound is not None:
            stmt = stmt.where(log.c.seq > bound)
        rows = session.execute(stmt).all()
        yield from rows
        if len(rows) < batch:
            return
        bound = rows[-1].seq


def chain_head(session: Session, tables: AuditTables) -> tuple[int, str]:
    """The chain head as ``session`` sees it: the newest seq and its hash (0 and the genesis
    hash before the first record)."""
    head = tables.head
    row = session.execute(select(head.c.last_seq, head.c.last_hash).where(head.c.id == HEAD_ID)).first()
    return (0, GENESIS_HASH) if row is None else (int(row.last_seq), str(row.last_hash))


@dataclass(frozen=True)
class ChainBreak:
    """Where a walk of the chain stopped: the first seq that breaks it, and why."""

    seq: int
    reason: str


def chain_links(
    session: Session, log: Table, *, after: tuple[int, str] = (0, GENESIS_HASH), batch: int = 1000
) -> Iterator[tuple[int, str] | ChainBreak]:
    """Walk the chain in seq order from the record after ``after`` (a seq and the hash it is
    known to have; from seq 1 by default): each record's seq and hash, recomputed from its
    columns and the hash before it, so every hash given follows from ``after`` alone. Ends
    with a :class:`ChainBreak` at the first record missing, changed or not linked to the
    one before."""
    expected, prev_hash = after[0] + 1, after[1]
    for row in _records(session, log, batch, after[0]):
        if row.seq < expected:
            yield ChainBreak(row.seq, "a record was inserted before the first")
            return
        if row.seq > expected:
            yield ChainBreak(expected, "a record is missing")
            return
        if row.prev_hash != prev_hash:
            yield ChainBreak(row.seq, "the link to the previous record is broken")
            return
        if record_hash(prev_hash, {k: row._mapping[k] for k in _HASHED}) != row.hash:
            yield ChainBreak(row.seq, "the record was changed")
            return
        yield row.seq, row.hash
        prev_hash, expected = row.hash, expected + 1


def verify_chain(session: Session, tables: AuditTables, *, batch: int = 1000) -> ChainVerification:
    """Recompute the chain from seq 1 and compare it with the head. Any changed,
    deleted or inserted record, the newest included, makes ``ok`` false with the
    first seq where the chain breaks. Safe while appends go on: records appended
    after the check starts are either checked too or left for the next check.

    The chain has no secret: someone who rewrites a record and every hash after it, and
    the head, leaves a chain that verifies. Signed checkpoints of the head, kept outside
    the database, show that too (:mod:`safeguarding_kit.audit.checkpoints`)."""
    # The head is read first: records beyond it found later are either appends that
    # committed meanwhile (the head has moved past them when read again) or forgeries.
    head_seq, head_hash = chain_head(session, tables)
    last_seq, prev_hash = 0, GENESIS_HASH
    for link in chain_links(session, tables.log, batch=batch):
        if isinstance(link, ChainBreak):
            return ChainVerification(False, last_seq, link.seq, link.reason)
        seq, hash_ = link
        if seq == head_seq and hash_ != head_hash:
            return ChainVerification(False, last_seq, seq, "the chain head does not match this record")
        last_seq, prev_hash = link
    if last_seq < head_seq:
        return ChainVerification(False, last_seq, last_seq + 1, "the newest records were removed")
    if last_seq > head_seq:
        head_seq, head_hash = chain_head(session, tables)
        if head_seq < last_seq:
            return ChainVerification(False, last_seq, head_seq + 1, "records were added past the chain head")
        if head_seq == last_seq and head_hash != prev_hash:
            return ChainVerification(False, last_seq, last_seq, "the chain head does not match this record")
    return ChainVerification(True, last_seq)


def _encode_seq(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def _decode_seq(cursor: str) -> int:
    """The seq in ``cursor``; :class:`InvalidCursor` (400) if it was not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.") from exc
    # At most 18 digits: any seq a BIGINT holds, and no huge number to parse.
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.")
    return int(raw)


def access_log(
    session: Session,
    tables: AuditTables,
    *,
    child_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    actor_agency: str | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """A child's access history (refusals included), newest first, and the cursor of
    the next page (``None`` on the last); only ``actor_agency``'s people's records when
    given. :class:`InvalidCursor` for a cursor not ours."""
    log = tables.log
    stmt = select(log).where(log.c.child_id == child_id)
    if actor_agency is not None:
        stmt = stmt.where(log.c.actor_agency == actor_agency)
    if cursor:
        stmt = stmt.where(log.c.seq < _decode_seq(cursor))
    rows = session.execute(stmt.order_by(log.c.seq.desc()).limit(limit + 1)).all()
    entries = [AuditEntry.model_validate(dict(row._mapping)) for row in rows[:limit]]
    if len(rows) <= limit:
        return entries, None
    return entries, _encode_seq(entries[-1].seq)


@dataclass(frozen=True)
class AuditTrail:
    """A service's audit trail: its tables, and ``record`` for the service layer."""

    tables: AuditTables

    def record(
        self,
        session: Session,
        principal: Principal,
        action: str,
        resource_type: str,
        resource_id: uuid.UUID | str,
        child_id: uuid.UUID | None,
        *,
        outcome: str = "allowed",
        detail: str | None = None,
    ) -> None:
        """Add one audit record for ``principal`` acting on a resource about ``child_id``
        to the caller's transaction: it is appended when the session commits (so the chain
        head is the last lock the transaction takes) and is gone if it rolls back. (A
        record made inside a savepoint stays with the whole transaction.)"""
        values = audit_values(
            self.tables.log,
            principal,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id),
            child_id=child_id,
            outcome=outcome,
            detail=detail,
        )
        if not session.in_transaction():
            session.begin()  # the record belongs to this transaction, rolled back with it
        session.info.setdefault(_PENDING, []).append((self.tables, values))

    def commit_read(self, session: Session) -> None:
        """Commit a read (or a refused one): its records, from :meth:`record`, appended
        together with those of the reads served at the same time, in one transaction and
        one take of the chain head (:mod:`safeguarding_kit.audit.group_commit`); returns
        once they are committed. For reads only: ``session`` must hold no change, since the
        records no longer commit in its transaction. Raises
        :class:`~safeguarding_kit.problems.DatabaseUnavailable` (503) when the group's commit
        failed."""
        pending: list[tuple[AuditTables, dict[str, Any]]] = session.info.pop(_PENDING, [])
        mine = [values for tables, values in pending if tables is self.tables]
        others = [(tables, values) for tables, values in pending if tables is not self.tables]
        if others:
            session.info[_PENDING] = others  # another trail's: appended at the commit below
        if mine:
            groups_for(session, self.tables, append_by_commit).append(session, mine)
        session.commit()
