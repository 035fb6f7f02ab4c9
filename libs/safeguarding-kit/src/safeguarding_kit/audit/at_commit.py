"""PostgreSQL: audit records chained by their transaction's commit, inside the database.

Appending to the chain locks its head until the transaction ends. Appended by a statement
of the transaction, the head stays locked from that statement's answer, through the
service's turn to send the commit (behind every other request its event loop is serving),
to the commit: under load, milliseconds in which every other append of the service waits.
Here a transaction stages its records instead (:func:`staged`: one INSERT into
``audit_pending``, which takes no lock), and a deferred constraint trigger chains each
staged record when the transaction commits: it takes the head, writes the record into the
log with its seq, prev_hash and hash (the same hash :func:`~safeguarding_kit.audit.service.record_hash`
computes), moves the head on and deletes the staged row. The head is then locked only
from the commit's start to its end, inside the server.

What holds, as before: a record commits with its transaction or not at all (a transaction,
or savepoint, rolled back takes its staged rows and their pending triggers with it); the
chain never forks (the head's row lock serialises the commits); a transaction's records
take consecutive seqs in the order they were staged. What differs: a record's seq is given
at the commit, so a transaction cannot read its own records back before it commits.

The trigger, its function and the staging table come with each service's migrations
(:func:`install`), and with ``metadata.create_all`` (the kit's own tests).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from sqlalchemy import DDL, Connection, Engine, Insert, Table, event, select, text
from sqlalchemy.orm import Session

from safeguarding_kit.audit.models import GENESIS_HASH, HEAD_TABLE, LOG_TABLE, PENDING_TABLE
from safeguarding_kit.db import unnested

FUNCTION = "audit_chain_at_commit"
TRIGGER = "audit_pending_chained_at_commit"

# The columns a staged record gives the log, in the log's order (all but the chain's).
GIVEN = (
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

# Version 1 of the function and trigger: a migration that installed them keeps meaning
# what it did, so change them only by adding a version (and a migration that installs it).
# Only this module's constant names go into the text; nothing from outside.
CHAIN_AT_COMMIT_V1 = (
    f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    chain_seq bigint;
    chain_hash text;
    record_hash text;
BEGIN
    SELECT last_seq, last_hash INTO chain_seq, chain_hash FROM {HEAD_TABLE} WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- The chain's first record makes its head (another transaction may be making it too).
        INSERT INTO {HEAD_TABLE} (id, last_seq, last_hash) VALUES (1, 0, '{GENESIS_HASH}')
            ON CONFLICT (id) DO NOTHING;
        SELECT last_seq, last_hash INTO chain_seq, chain_hash FROM {HEAD_TABLE} WHERE id = 1 FOR UPDATE;
    END IF;
    chain_seq := chain_seq + 1;
    -- sha256 (hex) of the previous hash and the record's canonical JSON, whose seq is last.
    record_hash := encode(
        sha256(convert_to(chain_hash || NEW.canonical_before_seq || chain_seq || '}}', 'UTF8')), 'hex'
    );
    INSERT INTO {LOG_TABLE} (seq, {", ".join(GIVEN)}, prev_hash, hash)
        VALUES (chain_seq, {", ".join(f"NEW.{name}" for name in GIVEN)}, chain_hash, record_hash);
    UPDATE {HEAD_TABLE} SET last_seq = chain_seq, last_hash = record_hash WHERE id = 1;
    DELETE FROM {PENDING_TABLE} WHERE id = NEW.id;
    RETURN NULL;
END
$$
""",  # noqa: S608
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {PENDING_TABLE}",
    f"""
CREATE CONSTRAINT TRIGGER {TRIGGER} AFTER INSERT ON {PENDING_TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()
""",
)
UNINSTALL_V1 = (
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {PENDING_TABLE}",
    f"DROP FUNCTION IF EXISTS {FUNCTION}()",
)


def install(connection: Connection) -> None:
    """Install the trigger chaining staged records at commit (PostgreSQL; nothing on
    SQLite, where appends stay in the transaction's statements). For a migration, after it
    creates ``audit_pending``: ``install(op.get_bind())``."""
    if connection.dialect.name == "postgresql":
        for statement in CHAIN_AT_COMMIT_V1:
            connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    """Remove what :func:`install` installed (a migration's downgrade)."""
    if connection.dialect.name == "postgresql":
        for statement in UNINSTALL_V1:
            connection.exec_driver_sql(statement)


def install_with(pending: Table) -> None:
    """Install the trigger whenever ``metadata.create_all`` creates ``pending`` on PostgreSQL."""
    for statement in CHAIN_AT_COMMIT_V1:
        ddl = DDL(statement)  # type: ignore[no-untyped-call]  # SQLAlchemy leaves its __init__ unannotated
        event.listen(pending, "after_create", ddl.execute_if(dialect="postgresql"))


_TRIGGER_INSTALLED = text(
    "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = :name AND tgrelid = to_regclass(:staging))"
)
# Whether each database (by engine) chains staged records at commit, asked once; an engine
# no longer used (the tests make hundreds) is forgotten with it.
_CHAINS_AT_COMMIT: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def chains_at_commit(session: Session) -> bool:
    """True on PostgreSQL when the database has the trigger (its migrations installed it)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    engine = bind if isinstance(bind, Engine) else bind.engine
    known = _CHAINS_AT_COMMIT.get(engine)
    if known is None:
        found = session.scalar(_TRIGGER_INSTALLED, {"name": TRIGGER, "staging": PENDING_TABLE})
        known = _CHAINS_AT_COMMIT[engine] = bool(found)
    return known


@functools.cache
def staged(pending: Table) -> Insert:
    """The records' insert into ``pending``, from one array per column: one statement,
    always the same one, whatever the number of records. Built once per table."""
    columns = [column for column in pending.c if column.name != "id"]
    rows = select(*(unnested(column.name, column.type) for column in columns))
    return pending.insert().from_select([column.name for column in columns], rows)


def staged_parameters(records: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """:func:`staged`'s values for ``records`` (each record's columns, from
    ``audit_values``, and its canonical JSON up to its seq)."""
    parameters: dict[str, Any] = {name: [values[name] for values, _ in records] for name in GIVEN}
    parameters["canonical_before_seq"] = [before_seq for _, before_seq in records]
    return parameters
