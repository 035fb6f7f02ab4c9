"""The append-only, hash-chained audit trail each service keeps of every read and
write of a child's record (ARCHITECTURE.md, "Audit").

Each record's hash covers its content and the previous record's hash, so changing,
deleting or inserting any record breaks the chain from there on. Appends are
serialised through a one-row chain head updated first in the appending
transaction: a row lock on PostgreSQL, the write lock on SQLite. The chain never
forks, and an append rolled back with its transaction leaves no trace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Uuid, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import UtcDateTime, utc_now
from safeguarding_kit.problems import InvalidCursor
from safeguarding_kit.request_context import current_request_id

GENESIS_HASH = "0" * 64
HEAD_ID = 1
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


@dataclass(frozen=True)
class AuditTables:
    log: Table
    head: Table


def audit_tables(metadata: MetaData) -> AuditTables:
    """The audit log and its chain head, on the service's own metadata (and migrations)."""
    log = Table(
        "audit_log",
        metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
        Column("occurred_at", UtcDateTime, nullable=False),
        Column("actor_sub", String(255), nullable=False),
        Column("actor_agency", String(63), nullable=False),
        Column("actor_agency_type", String(20), nullable=False),
        Column("actor_roles", String(255), nullable=False),
        Column("action", String(40), nullable=False),
        Column("resource_type", String(60), nullable=False),
        Column("resource_id", String(64), nullable=False),
        Column("child_id", Uuid, index=True),
        Column("request_id", String(128)),
        Column("outcome", String(10), nullable=False),
        Column("detail", String(255)),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    head = Table(
        "audit_chain_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("last_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
        Column("last_hash", String(64), nullable=False),
    )
    return AuditTables(log=log, head=head)


def _canonical(values: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    return json.dumps({k: plain(values[k]) for k in _HASHED}, sort_keys=True, separators=(",", ":"))


def record_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """The hash of one record: its content chained to the previous record's hash."""
    return hashlib.sha256((prev_hash + _canonical(values)).encode()).hexdigest()


def _lock_head(session: Session, tables: AuditTables) -> tuple[int, str]:
    """Take the chain head for this transaction (creating it on first use)."""
    head = tables.head
    for _ in range(2):
        bumped = session.execute(
            update(head).where(head.c.id == HEAD_ID).values(last_seq=head.c.last_seq + 1)
        )
        if bumped.rowcount == 1:  # type: ignore[attr-defined]
            row = session.execute(select(head.c.last_seq, head.c.last_hash).where(head.c.id == HEAD_ID)).one()
            return int(row.last_seq), str(row.last_hash)
        session.execute(insert(head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))
    raise RuntimeError("audit chain head could not be created")  # pragma: no cover


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
    """Append one record in the caller's transaction (it commits or rolls back with the
    change or read it records) and return its sequence number. The caller commits:
    a read that is audited commits right after, which releases the chain head."""
    seq, prev_hash = _lock_head(session, tables)
    values: dict[str, Any] = {
        "seq": seq,
        "occurred_at": occurred_at or utc_now(),
        "actor_sub": principal.sub,
        "actor_agency": principal.agency,
        "actor_agency_type": principal.agency_type.value,
        "actor_roles": ",".join(sorted(r.value for r in principal.roles)),
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "child_id": child_id,
        "request_id": current_request_id(),
        "outcome": outcome,
        "detail": detail,
    }
    digest = record_hash(prev_hash, values)
    session.execute(insert(tables.log).values(**values, prev_hash=prev_hash, hash=digest))
    session.execute(update(tables.head).where(tables.head.c.id == HEAD_ID).values(last_hash=digest))
    return seq


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


def _values(row: Row[Any]) -> dict[str, Any]:
    mapping = dict(row._mapping)
    return {k: mapping[k] for k in _HASHED}


def verify_chain(session: Session, tables: AuditTables, *, batch: int = 1000) -> ChainVerification:
    """Recompute the chain from the first record: any changed, deleted or inserted
    record (the newest included, through the head) shows as the first broken seq."""
    log = tables.log
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    last_seq = 0
    while True:
        rows = session.execute(
            select(log).where(log.c.seq >= expected_seq).order_by(log.c.seq).limit(batch)
        ).all()
        for row in rows:
            if row.seq != expected_seq:
                return ChainVerification(False, checked, expected_seq, "a record is missing")
            if row.prev_hash != prev_hash:
                return ChainVerification(False, checked, row.seq, "the link to the previous record is broken")
            if record_hash(prev_hash, _values(row)) != row.hash:
                return ChainVerification(False, checked, row.seq, "the record was changed")
            prev_hash, last_seq = row.hash, row.seq
            expected_seq += 1
            checked += 1
        if len(rows) < batch:
            break
    head = session.execute(select(tables.head.c.last_seq, tables.head.c.last_hash)).first()
    head_seq, head_hash = (0, GENESIS_HASH) if head is None else (int(head.last_seq), str(head.last_hash))
    if head_seq != last_seq or head_hash != prev_hash:
        return ChainVerification(False, checked, last_seq + 1, "the newest records were removed")
    return ChainVerification(True, checked)


class AuditEntry(BaseModel):
    """One access to a child's record."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "seq": 48211,
                    "occurred_at": "2026-11-24T10:02:13Z",
                    "actor_sub": "jane.worker@sheffield.gov.example",
                    "actor_agency": "sheffield-social-care",
                    "actor_agency_type": "social_care",
                    "actor_roles": "practitioner",
                    "action": "read",
                    "resource_type": "child",
                    "resource_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "request_id": "4b5a1f9e-4f43-4a43-9f7b-1a5f8f0d2c11",
                    "outcome": "allowed",
                    "detail": None,
                }
            ]
        },
    )

    seq: int
    occurred_at: datetime
    actor_sub: str
    actor_agency: str
    actor_agency_type: str
    actor_roles: str
    action: str
    resource_type: str
    resource_id: str
    child_id: uuid.UUID | None
    request_id: str | None
    outcome: str
    detail: str | None


def _decode_seq(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.") from exc


def access_log(
    session: Session, tables: AuditTables, *, child_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[AuditEntry], str | None]:
    """A child's access history, newest first, and the cursor of the next page."""
    log = tables.log
    stmt = select(log).where(log.c.child_id == child_id)
    if cursor:
        stmt = stmt.where(log.c.seq < _decode_seq(cursor))
    rows = session.execute(stmt.order_by(log.c.seq.desc()).limit(limit + 1)).all()
    entries = [AuditEntry.model_validate(dict(r._mapping)) for r in rows[:limit]]
    if len(rows) <= limit:
        return entries, None
    return entries, base64.urlsafe_b64encode(str(entries[-1].seq).encode()).decode().rstrip("=")
