"""A list whose statement is built once (at import, restricted by nothing) runs the same
query object for every first page: SQLAlchemy works out a statement's cache key once per
object, and walking a new one's whole tree on every read was a tenth of a list read's time.
Its pages are still the right ones, newest first, whatever the limit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, event, false, select, true
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from safeguarding_kit.db import UtcDateTime, create_db_engine, restricted
from safeguarding_kit.pagination import paginate
from safeguarding_kit.throwaway_database import provisioned_database


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    text: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


ALL_NOTES = select(Note)  # built once, as a service's list statements are
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with provisioned_database("pages", tmp_path) as url:
        engine = create_db_engine(url, pool_size=2)
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(Note(text=f"note {n}", created_at=START + timedelta(minutes=n)) for n in range(5))
            session.commit()
            yield session
        engine.dispose()


def test_a_condition_that_restricts_nothing_leaves_the_statement_as_it_was() -> None:
    assert restricted(ALL_NOTES, true()) is ALL_NOTES
    narrowed = restricted(ALL_NOTES, false())
    assert narrowed is not ALL_NOTES
    assert narrowed.whereclause is not None


def test_every_first_page_of_a_statement_built_once_runs_the_same_query_object(session: Session) -> None:
    executed: list[Any] = []
    engine = session.get_bind()
    listener = lambda _conn, statement, *_args: executed.append(statement)  # noqa: E731
    event.listen(engine, "before_execute", listener)
    try:
        for limit in (2, 3, 2):
            paginate(
                session, ALL_NOTES, created_at=Note.created_at, id_column=Note.id, limit=limit, cursor=None
            )
    finally:
        event.remove(engine, "before_execute", listener)
    assert len(executed) == 3
    assert executed[0] is executed[1] is executed[2]


@pytest.mark.parametrize("limit", [1, 2, 4, 5, 6])
def test_pages_of_a_statement_built_once_give_every_record_once_newest_first(
    session: Session, limit: int
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        rows, cursor = paginate(
            session,
            restricted(ALL_NOTES, true()),
            created_at=Note.created_at,
            id_column=Note.id,
            limit=limit,
            cursor=cursor,
        )
        assert len(rows) <= limit
        seen += [note.text for note in rows]
        if cursor is None:
            break
    assert seen == [f"note {n}" for n in reversed(range(5))]
