"""New records written without the ORM's unit of work, for the busiest writes (a
referral's intake): the rows of several new ORM instances in one statement on PostgreSQL,
the instances then in the session as if loaded.

A flush works out what changed, in what order and with which statements, one statement
a table, and keeps its books on every instance; for a handful of new rows that cost more
than writing them. :func:`insert_new` writes what a flush of the same new instances
would (the values set on them and their columns' Python defaults, which it sets on them
too), then hands the instances to the session unchanged and persistent: the session finds
them by primary key without asking the database, and a later change to one is flushed as
an UPDATE, as if it had been loaded.

On PostgreSQL the rows go in one statement, each row's INSERT but the last a
data-modifying WITH of the last: one round trip for all. Foreign keys between them hold,
as PostgreSQL checks them once the whole statement is done. SQLite has no DML in a WITH:
one INSERT a table there (as a flush sends them).

A caller about to send a statement of its own can hold back the rows written meanwhile
(:func:`holding_new_rows`) and send them as WITHs of it: the outbox writes the rows its
read models keep from a change's events with the events themselves.

Making the instances costs too: a mapped class's constructor fires an attribute event for
each value it is given. :func:`built` makes a new instance as the loader does, its values
put in place, for rows written this way (a flush writes it as it writes a constructed one).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import CTE, Column, Insert, Row, Select, Table, bindparam, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert

T = TypeVar("T")

# A row's shape: its table and the columns it sets, in order.
Shape = tuple[Table, tuple[str, ...]]


# Where insert_new puts the instances it is given while a caller holds them back.
_HELD = "safeguarding_kit.new_rows.held"


def insert_new(session: Session, instances: Sequence[Any]) -> None:
    """Insert ``instances`` (new ORM instances, primary keys set, in an order their foreign
    keys allow: the order SQLite needs) and add them to ``session`` as persistent and
    unchanged. An integrity error (a unique key taken) is raised as a flush would raise it,
    and the instances are then left out of the session. Does not commit. Inside
    :func:`holding_new_rows` the instances are held back, for the holder to write."""
    held = session.info.get(_HELD)
    if held is not None:
        held.extend(instances)
        return
    rows = rows_of(instances)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_inserted_together(shapes_of(rows)), parameters_of(rows))
    else:
        # Rows of one table in a row (a referral's concerns) go in one executemany.
        for table, same_table in itertools.groupby(rows, key=lambda table_row: table_row[0]):
            session.execute(insert(table), [row for _, row in same_table])
    adopt(session, instances)


def insert_new_then_read(session: Session, instances: Sequence[Any], query: Select[Any]) -> list[Row[Any]]:
    """:func:`insert_new`, then ``query``'s rows: on PostgreSQL in the one statement (the
    inserts as WITHs of the query, which sees the database as it was before them), so a
    question the caller would ask next costs no round trip of its own; on SQLite the query
    after the inserts. ``query`` should be built once (its identity keys the statement)."""
    if session.get_bind().dialect.name != "postgresql" or session.info.get(_HELD) is not None:
        insert_new(session, instances)
        return list(session.execute(query).all())
    rows = rows_of(instances)
    read = list(session.execute(_read_after(shapes_of(rows), query), parameters_of(rows)).all())
    adopt(session, instances)
    return read


@functools.lru_cache(maxsize=64)
def _read_after(shapes: tuple[Shape, ...], query: Select[Any]) -> Select[Any]:
    return query.add_cte(*insert_ctes(shapes))


@contextmanager
def holding_new_rows(session: Session) -> Iterator[list[Any]]:
    """Hold back the instances :func:`insert_new` is given inside, in the list this yields,
    for the holder to write with a statement of its own (on PostgreSQL, as WITHs of it:
    :func:`rows_of`, :func:`insert_ctes`, :func:`parameters_of`, then :func:`adopt`), one
    round trip fewer; or to hand to :func:`insert_new` once out."""
    held: list[Any] = []
    outer = session.info.get(_HELD)
    session.info[_HELD] = held
    try:
        yield held
    finally:
        if outer is None:
            session.info.pop(_HELD, None)
        else:
            session.info[_HELD] = outer


# A new row: its table and the values to insert.
NewRow = tuple[Table, dict[str, Any]]


def rows_of(instances: Sequence[Any]) -> list[NewRow]:
    """Each instance's table and the values a flush would insert (:func:`_row_of`)."""
    return [_row_of(instance) for instance in instances]


def shapes_of(rows: Sequence[NewRow]) -> tuple[Shape, ...]:
    return tuple((table, tuple(row)) for table, row in rows)


def parameters_of(rows: Sequence[NewRow]) -> dict[str, Any]:
    """The rows' values as the parameters of :func:`insert_ctes`' statements."""
    return {_name(n, key): value for n, (_, row) in enumerate(rows) for key, value in row.items()}


def adopt(session: Session, instances: Sequence[Any]) -> None:
    """Hand instances whose rows were just written to the session, persistent and unchanged."""
    for instance in instances:
        make_transient_to_detached(instance)
    session.add_all(instances)


def _row_of(instance: Any) -> NewRow:
    """The instance's table and the values a flush would insert: each column's value set on
    it, else the column's Python default, else NULL for a column with no default at all
    (put on the instance too, so that the session never asks the database for them); a
    column whose default is SQL (an expression, or the server's) is left to the database."""
    mapped = _mapped(type(instance))
    values = instance.__dict__
    row: dict[str, Any] = {}
    for key, column_key, default, null_when_unset in mapped.columns:
        if key in values:
            row[column_key] = values[key]
            continue
        if default is not None:
            value = _python_default(default)
        elif null_when_unset:
            value = None
        else:
            continue
        # Put in place as the loader does: the row is new, so there is no history to keep
        # (the instance is adopted as loaded, or goes through a flush, which reads these).
        values[key] = value
        row[column_key] = value
    return mapped.table, row


def built(cls: type[T], /, **values: Any) -> T:
    """A new instance of the mapped class ``cls`` with ``values``, made as the ORM's loader
    makes one: each value put in place without the attribute events a constructor fires
    for it (a new row has no history to keep), a relationship's list set as loaded. The
    constructor's cost without its bookkeeping, for the busiest writes' new rows; a flush
    writes such an instance as it writes a constructed one, and :func:`insert_new` too.
    An unknown name is a ``TypeError``, as the constructor's."""
    mapped = _mapped(cls)
    instance: T = mapped.new_instance()
    state = instance.__dict__
    for key, value in values.items():
        if key in mapped.column_keys:
            state[key] = value
        elif key in mapped.relationships:
            set_committed_value(instance, key, value)
        else:
            raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
    return instance


# A mapped column as _row_of reads it: its attribute's key, its column's key, the column
# when it has a Python default, and whether it is NULL when unset (it has no default at all).
_ColumnPlan = tuple[str, str, Column[Any] | None, bool]


@dataclass(frozen=True)
class _Mapped:
    """What built and _row_of ask of a mapped class, worked out once for it."""

    table: Table
    columns: tuple[_ColumnPlan, ...]
    column_keys: frozenset[str]
    relationships: frozenset[str]
    new_instance: Callable[[], Any]


_MAPPED: dict[type, _Mapped] = {}


def _mapped(cls: type) -> _Mapped:
    known = _MAPPED.get(cls)
    if known is not None:
        return known
    mapper: Mapper[Any] = inspect(cls)
    table = mapper.local_table
    assert isinstance(table, Table), f"{cls.__name__} is not mapped to one table"
    columns: list[_ColumnPlan] = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        assert isinstance(column, Column), f"{cls.__name__}.{prop.key} is not a table's column"
        python_default = column if _has_python_default(column) else None
        no_default = column.default is None and column.server_default is None
        columns.append((prop.key, column.key, python_default, no_default))
    mapped = _MAPPED[cls] = _Mapped(
        table=table,
        columns=tuple(columns),
        column_keys=frozenset(key for key, *_ in columns),
        relationships=frozenset(mapper.relationships.keys()),
        new_instance=mapper.class_manager.new_instance,
    )
    return mapped


def _has_python_default(column: Column[Any]) -> bool:
    default = column.default
    return default is not None and (default.is_scalar or default.is_callable)


def _python_default(column: Column[Any]) -> Any:
    default: Any = column.default
    # A callable default is wrapped by SQLAlchemy to take the execution context; those here
    # take nothing (uuid4, the clock, a record key), so none is given.
    return default.arg(None) if default.is_callable else default.arg


def _name(n: int, column: str) -> str:
    return f"r{n}_{column}"


def inserts_of(shapes: tuple[Shape, ...]) -> list[Insert]:
    """An INSERT of one row of each shape, its values given at execution (row ``n``'s
    column ``c`` as ``r{n}_{c}``: :func:`parameters_of`)."""
    return [
        insert(table).values({key: bindparam(_name(n, key), type_=table.c[key].type) for key in keys})
        for n, (table, keys) in enumerate(shapes)
    ]


def insert_ctes(shapes: tuple[Shape, ...]) -> list[CTE]:
    """:func:`inserts_of` as data-modifying WITHs, to add to a statement of the caller's."""
    return _as_ctes(inserts_of(shapes))


def _as_ctes(inserts: Sequence[Insert]) -> list[CTE]:
    return [statement.cte(f"new_{n}") for n, statement in enumerate(inserts)]


@functools.lru_cache(maxsize=64)
def _inserted_together(shapes: tuple[Shape, ...]) -> Insert:
    """One statement inserting one row of each shape (:func:`inserts_of`), each but the last
    a data-modifying WITH of the last: built once for each set of shapes, so SQLAlchemy
    compiles it once and the server prepares it once."""
    *firsts, last = inserts_of(shapes)
    return last.add_cte(*_as_ctes(firsts))


def insert_unless_present(session: Session, instance: Any) -> bool:
    """Insert a new ORM instance's row unless a row with its primary key (or another of its
    unique keys) is there already, in one statement (``INSERT ... ON CONFLICT DO NOTHING``,
    on PostgreSQL and SQLite alike) where asking first and then inserting took two and
    could still collide with a concurrent insert. True if it was inserted. The instance
    is not added to the session: a later ``session.get`` reads the row, whichever wrote it."""
    table, row = _row_of(instance)
    dialect = session.get_bind().dialect.name
    return session.execute(_inserted_unless_present(table, dialect), row).first() is not None


def insert_rows_unless_present(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> set[Any]:
    """Insert those of ``rows`` (values for ``table``, whose primary key is one column) whose
    key is not taken, in one statement (:func:`insert_unless_present`'s, with every row),
    and return the keys of those inserted. The rows go in the order given: callers that may
    race over the same keys give them sorted, so two such inserts wait on each other in one
    order and never deadlock. A key another transaction has inserted but not committed is
    waited for, then passed over if it committed."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    return set(session.scalars(_inserted_unless_present(table, dialect), list(rows)))


@functools.lru_cache(maxsize=64)
def _inserted_unless_present(table: Table, dialect: str) -> ReturningInsert[Any]:
    # The row's key is returned when it was inserted, nothing when it was there: a rowcount
    # cannot tell, as SQLAlchemy asks for the key back by itself and the count is then -1.
    build = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return build(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
