"""Writes held until a transaction commits and sent with the statement its commit sends
anyway: a round trip fewer each, on PostgreSQL.

A change's last writes need nothing back before the commit (its events and their
deliveries, the stored answer to an ``Idempotency-Key``). :func:`ride_on_commit` holds
such a write, a *rider*, with the session; when the session commits, the riders are sent
in the order held, before the commit, always: as data-modifying WITHs of the carrier's
statement when a carrier is registered and takes them (the audit trail's append of the
request's record, :mod:`safeguarding_kit.audit.service`), else each alone. A rolled-back
transaction's riders are dropped with it. A read in the transaction does not see them
before the commit (:func:`send_held` sends them first).

They are sent at once instead on SQLite (no DML in a WITH) and inside a savepoint (its
rollback must take its writes back; a write held for the outer transaction must not go in
the savepoint, so one held then is a programming error: :class:`RiderInSavepoint`).

A rider's statement is built once (its identity keys the carrier's combined statement)
and its bound parameters have names of their own (a prefix), so that riders and carrier
can share one statement: riders that cannot (a parameter name in two, or a table written
by two, whose order in one statement would not be kept) are each sent alone, as is
everything when no carrier takes them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import TableClause, event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class Rider:
    """A write held until the commit: a DML statement built once, and its parameters."""

    statement: UpdateBase
    parameters: Mapping[str, Any]


class RiderInSavepoint(RuntimeError):
    """A programming error: a write was given to :func:`ride_on_commit` inside a savepoint
    while writes of the outer transaction were held; sent now, it would go before them
    (events out of order), and held, the savepoint's rollback could not take it back."""


# The riders a session holds, in order.
_HELD = "safeguarding_kit.commit_riders.held"

# Sends a commit's riders (with a statement of its own, or alone): see carried_by.
Carrier = Callable[[Session, list[Rider]], None]
_carriers: list[Carrier] = []


def ride_on_commit(session: Session, statement: UpdateBase, parameters: Mapping[str, Any]) -> None:
    """Write ``statement`` with ``parameters`` in the session's transaction: on PostgreSQL
    when the session commits (before it, with the carrier's statement), on SQLite and in a
    savepoint now."""
    held: list[Rider] | None = session.info.get(_HELD)
    if session.in_nested_transaction():
        if held:
            raise RiderInSavepoint(
                "A write was held for the commit inside a savepoint while others of the outer "
                "transaction wait for it: write them before the savepoint begins."
            )
        session.execute(statement, dict(parameters))
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(statement, dict(parameters))
        return
    session.info.setdefault(_HELD, []).append(Rider(statement, parameters))


def carried_by(carrier: Carrier) -> Carrier:
    """Register ``carrier`` to send every commit's riders (decorator): it is called before
    each commit with the riders held (maybe none), and must send them all, in order. One
    carrier per process: the audit trail's append."""
    if _carriers:
        raise RuntimeError("riders already have a carrier")
    _carriers.append(carrier)
    return carrier


def can_ride_together(riders: Sequence[Rider], carrier_parameters: Mapping[str, Any]) -> bool:
    """Whether ``riders`` can be WITHs of one statement whose own parameters are
    ``carrier_parameters``: no parameter name in two, and no table written by two (the
    WITHs of one statement run in no set order, so two inserts into one table, events
    say, could take their seqs out of the order held)."""
    names, tables = set(carrier_parameters), set[str]()
    for rider in riders:
        written = tables_written(rider.statement)
        if names.intersection(rider.parameters) or tables.intersection(written):
            return False
        names.update(rider.parameters)
        tables.update(written)
    return True


@functools.lru_cache(maxsize=256)
def tables_written(statement: UpdateBase) -> frozenset[str]:
    """The tables ``statement`` writes, its data-modifying WITHs' included."""
    targets = (element.table for element in visitors.iterate(statement) if isinstance(element, UpdateBase))
    # A target that is not a table (an alias, which nothing here writes through) is named by
    # itself: never taken for another.
    return frozenset(
        target.fullname if isinstance(target, TableClause) else repr(target) for target in targets
    )


def send_alone(session: Session, riders: Sequence[Rider]) -> None:
    """Each rider's statement in turn, as it would have been sent without holding it."""
    for rider in riders:
        session.execute(rider.statement, dict(rider.parameters))


def send_held(session: Session) -> None:
    """Send the writes held so far now, in the transaction (each alone): for a read in the
    same transaction that must see them."""
    riders: list[Rider] = session.info.pop(_HELD, [])
    if riders:
        session.flush()
        send_alone(session, riders)


@event.listens_for(Session, "before_commit")
def _send_held(session: Session) -> None:
    riders: list[Rider] = session.info.pop(_HELD, [])
    if _carriers:
        _carriers[0](session, riders)
    elif riders:
        # The change's other writes first, as a flush at the commit would send them.
        session.flush()
        send_alone(session, riders)


@event.listens_for(Session, "after_transaction_end")
def _drop_held_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_HELD, None)
