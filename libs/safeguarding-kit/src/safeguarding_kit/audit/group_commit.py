"""Reads audited in groups: the records of reads served at the same time appended to the
chain in one transaction, one take of the chain head and one commit for all of them.

Every append takes the chain head's lock until its transaction commits, so reads each
appending and committing on their own queue behind one another. Here the first read to
arrive leads: it appends its records and those of every read waiting meanwhile, commits,
and wakes them; reads that arrive while it writes wait for the next leader (one of them).
A read is still never answered before its record is durable: each caller returns only
once the transaction holding its records has committed, and if that commit fails, every
read in the group fails with it (503 ``database-unavailable``; none is answered unaudited).

Only for reads: a change's records commit with the change, in its own transaction
(:meth:`AuditTrail.record` and ``session.commit()``).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from safeguarding_kit.audit.models import AuditTables
from safeguarding_kit.problems import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_DETAIL,
    DatabaseUnavailable,
)

AppendRecords = Callable[[Session, AuditTables, list[dict[str, Any]]], Any]
"""Appends records to a chain in a session's transaction (``audit.service.append_records``)."""


@dataclass
class _Waiting:
    records: list[dict[str, Any]]
    done: bool = False
    error: BaseException | None = None


@dataclass
class ReadGroups:
    """The reads waiting to be appended to one chain on one database, and whether one of
    them is appending now."""

    tables: AuditTables
    write: AppendRecords
    waiting: list[_Waiting] = field(default_factory=list)
    leading: bool = False
    turn: threading.Condition = field(default_factory=threading.Condition)

    def append(self, session: Session, records: list[dict[str, Any]]) -> None:
        """Append ``records`` (a read's, from :func:`audit_values`), with those of the reads
        waiting alongside, and return once they are committed. The leader writes the group
        in ``session``'s transaction and commits it; ``session`` must hold no change.
        Reads wait here for one another in their worker threads: on the event loop (work
        given to ``Database.run`` on PostgreSQL) one read waiting would stop the loop the
        leader's statements wait on, so that is refused at once."""
        _refuse_on_the_event_loop()
        mine = _Waiting(records)
        with self.turn:
            self.waiting.append(mine)
            while self.leading and not mine.done:
                self.turn.wait()
            if mine.done:  # a leader appended and committed it (or failed to)
                if mine.error is not None:
                    # Not answered, as a read whose own commit failed is not: 503, retry.
                    raise DatabaseUnavailable(
                        DATABASE_UNAVAILABLE_DETAIL,
                        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
                    ) from mine.error
                return
            self.leading = True
            group, self.waiting = self.waiting, []
        error: BaseException | None = None
        try:
            self.write(session, self.tables, [record for read in group for record in read.records])
            session.commit()
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self.turn:
                for read in group:
                    read.done, read.error = True, error
                self.leading = False
                self.turn.notify_all()


def _refuse_on_the_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a worker thread: reads may wait for one another here
        return
    raise RuntimeError(
        "a read audited in a group must run in a worker thread, not on the event loop: "
        "its waiting for the group's leader would stop the loop the leader needs"
    )


# One set of groups per database (engine, or a test's connection) and chain.
_GROUPS: weakref.WeakKeyDictionary[Any, dict[int, ReadGroups]] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def groups_for(session: Session, tables: AuditTables, write: AppendRecords) -> ReadGroups:
    """The read groups of the database ``session`` works on, for the chain ``tables``,
    whose leaders append with ``write``."""
    bind = session.get_bind()
    with _GROUPS_LOCK:
        per_chain = _GROUPS.setdefault(bind, {})
        return per_chain.setdefault(id(tables.log), ReadGroups(tables, write))
