"""Reads audited in groups: the records of reads served at the same time appended to the
chain in one transaction, one take of the chain head and one commit for all of them.

Every append takes the chain head's lock until its transaction commits, so reads each
appending and committing on their own queue behind one another (on PostgreSQL only for the
commit itself, which takes the head: :mod:`safeguarding_kit.audit.at_commit`; a group still
saves a commit a read). Here the first read to
arrive leads: it appends its records and those of every read waiting meanwhile, commits,
and wakes them; reads that arrive while it writes wait for the next leader (one of them).
A read is still never answered before its record is durable: each caller returns only
once the transaction holding its records has committed, and if that commit fails, every
read in the group fails with it (503 ``database-unavailable``; none is answered unaudited).

Reads in worker threads wait for their leader in their thread; reads given to
``Database.run`` on PostgreSQL, which run in SQLAlchemy's greenlets on the event loop, wait
on the loop, so the leader's statements (which wait there too) go on meanwhile.

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
from sqlalchemy.util.concurrency import await_, in_greenlet

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
    # Woken when the leader is done, for reads waiting on the event loop (Database.run).
    next_turn: asyncio.Future[None] | None = None

    def append(self, session: Session, records: list[dict[str, Any]]) -> None:
        """Append ``records`` (a read's, from :func:`audit_values`), with those of the reads
        waiting alongside, and return once they are committed. The leader writes the group
        in ``session``'s transaction and commits it; ``session`` must hold no change.
        A read in a worker thread waits for the leader in its thread; one given to
        ``Database.run`` on PostgreSQL waits on the event loop (SQLAlchemy's greenlet
        hands the wait to the loop), so that the leader's statements, which wait there
        too, go on."""
        mine = _Waiting(records)
        group = self._join_on_the_loop(mine) if in_greenlet() else self._join_in_a_thread(mine)
        if group is None:  # a leader appended and committed it (or failed to)
            if mine.error is not None:
                # Not answered, as a read whose own commit failed is not: 503, retry.
                raise DatabaseUnavailable(
                    DATABASE_UNAVAILABLE_DETAIL,
                    headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
                ) from mine.error
            return
        error: BaseException | None = None
        try:
            self.write(session, self.tables, [record for read in group for record in read.records])
            session.commit()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._done(group, error)

    def _join_in_a_thread(self, mine: _Waiting) -> list[_Waiting] | None:
        """Wait (in this thread) while another read leads; None once it has appended
        ``mine``, else the group this read now leads."""
        with self.turn:
            self.waiting.append(mine)
            while self.leading and not mine.done:
                self.turn.wait()
            return None if mine.done else self._lead()

    def _join_on_the_loop(self, mine: _Waiting) -> list[_Waiting] | None:
        """As :meth:`_join_in_a_thread`, for a read in SQLAlchemy's greenlet on the event
        loop: it waits on the loop, never holding the lock while it waits."""
        with self.turn:
            self.waiting.append(mine)
        while True:
            with self.turn:
                if mine.done:
                    return None
                if not self.leading:
                    return self._lead()
                if self.next_turn is None:
                    self.next_turn = asyncio.get_running_loop().create_future()
                turn = self.next_turn
            await_(turn)

    def _lead(self) -> list[_Waiting]:
        """Become the leader and take every read waiting (the lock held)."""
        self.leading = True
        group, self.waiting = self.waiting, []
        return group

    def _done(self, group: list[_Waiting], error: BaseException | None) -> None:
        """The group is committed (or failed, with ``error``): wake every read waiting."""
        with self.turn:
            for read in group:
                read.done, read.error = True, error
            self.leading = False
            self.turn.notify_all()
            turn, self.next_turn = self.next_turn, None
        if turn is not None:
            turn.get_loop().call_soon_threadsafe(_wake, turn)


def _wake(turn: asyncio.Future[None]) -> None:
    if not turn.done():
        turn.set_result(None)


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
