"""A service's audit tables: the append-only log and its one-row chain head, defined on
the service's own metadata (so they go into that service's migrations)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, Uuid

from safeguarding_kit.db import UtcDateTime

GENESIS_HASH = "0" * 64
HEAD_ID = 1
LOG_TABLE = "audit_log"
HEAD_TABLE = "audit_chain_head"
PENDING_TABLE = "audit_pending"


# The log's columns the chain fills in.
CHAIN_COLUMNS = ("seq", "prev_hash", "hash")


@dataclass(frozen=True)
class AuditTables:
    """A service's audit log, its chain head, and the records its transactions leave to be
    chained when they commit (PostgreSQL: :mod:`safeguarding_kit.audit.at_commit`)."""

    log: Table
    head: Table
    pending: Table


def audit_tables(metadata: MetaData) -> AuditTables:
    """The audit log and its chain head, defined on the service's own metadata (so
    they go into that service's migrations)."""
    # seq is given by the chain head, never by the database; BIGINT on PostgreSQL,
    # INTEGER (SQLite's rowid type) on SQLite.
    seq_type = BigInteger().with_variant(Integer, "sqlite")
    log = Table(
        LOG_TABLE,
        metadata,
        Column("seq", seq_type, primary_key=True, autoincrement=False),
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
        # A short machine-readable note (e.g. "merged into <id>"); never personal data.
        Column("detail", String(255)),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    head = Table(
        HEAD_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("last_seq", seq_type, nullable=False),
        Column("last_hash", String(64), nullable=False),
    )
    # A record waiting for its transaction's commit to chain it: the log's own columns but
    # those the chain gives, and its canonical JSON up to its seq (what the hash covers).
    # Empty but for that moment: the commit moves each row into the log.
    pending = Table(
        PENDING_TABLE,
        metadata,
        Column("id", seq_type, primary_key=True, autoincrement=True),
        *(
            Column(column.name, column.type, nullable=column.nullable)
            for column in log.c
            if column.name not in CHAIN_COLUMNS
        ),
        Column("canonical_before_seq", Text, nullable=False),
    )
    # Its trigger with it, where metadata.create_all makes it (a service's migrations install it).
    from safeguarding_kit.audit.at_commit import install_with  # it reads this module's names

    install_with(pending)
    return AuditTables(log=log, head=head, pending=pending)
