"""New records written without the unit of work (``insert_new``), as a specification:
what is written is what a flush of the same instances writes, in one statement on
PostgreSQL; the instances are then the session's, as if loaded; a taken key is refused as
a flush refuses it. On SQLite, or on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, Engine, ForeignKey, String, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from safeguarding_kit.db import UtcDateTime, create_db_engine, service_metadata, utc_now
from safeguarding_kit.new_rows import (
    built,
    holding_new_rows,
    insert_new,
    insert_new_then_read,
    insert_unless_present,
)
from safeguarding_kit.throwaway_database import provisioned_database


class Base(DeclarativeBase):
    metadata = service_metadata()


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    priority: Mapped[str] = mapped_column(String(10), default="routine")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    region: Mapped[str] = mapped_column(String(20), server_default=text("'south'"))
    opened_on: Mapped[date] = mapped_column(Date, default=func.current_date())
    row_version: Mapped[int] = mapped_column(default=1)
    notes: Mapped[list[Note]] = relationship(lazy="raise", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class Note(Base):
    __tablename__ = "notes"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with provisioned_database("new-rows", tmp_path) as url:
        engine = create_db_engine(url)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


def new_case(reference: str, *kinds: str) -> Case:
    case_id = uuid.uuid4()
    return Case(id=case_id, reference=reference, notes=[Note(case_id=case_id, kind=kind) for kind in kinds])


def built_case(reference: str, *kinds: str) -> Case:
    """The same case built as the loader builds one (``built``), as the referral service
    builds a referral's new rows: without the constructor's attribute events."""
    case_id = uuid.uuid4()
    notes = [built(Note, case_id=case_id, kind=kind) for kind in kinds]
    return built(Case, id=case_id, reference=reference, notes=notes)


# Each specification of insert_new holds for instances made either way.
either_way = pytest.mark.parametrize("make_case", [new_case, built_case], ids=["constructed", "built"])


def statements_of(engine: Engine) -> list[str]:
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    return sent


@either_way
def test_a_case_and_its_notes_are_written_with_their_defaults_and_the_database_fills_its_own(
    engine: Engine, make_case: Callable[..., Case]
) -> None:
    case = make_case("SY-1", "strategy", "visit")
    with Session(engine) as session:
        insert_new(session, [case, *case.notes])
        opened = case.opened_at  # the default, set on the instance too
        session.commit()

    with Session(engine) as session:
        stored = session.scalars(select(Case)).one()
        kinds = session.scalars(select(Note.kind).order_by(Note.kind)).all()
    assert (stored.reference, stored.priority, stored.closed_at) == ("SY-1", "routine", None)
    assert (stored.opened_at, stored.row_version) == (opened, 1)
    assert stored.region == "south"  # a server default is left to the server
    assert stored.opened_on is not None  # and so is a SQL default, never written as NULL
    assert kinds == ["strategy", "visit"]


@either_way
def test_on_postgresql_the_rows_of_several_tables_go_in_one_statement(
    engine: Engine, make_case: Callable[..., Case]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no INSERT in a WITH: one statement a table")
    case = make_case("SY-2", "strategy", "visit")
    sent = statements_of(engine)
    with Session(engine) as session:
        insert_new(session, [case, *case.notes])
        session.commit()
    assert [sql.split()[0] for sql in sent if not sql.startswith(("BEGIN", "COMMIT"))] == ["WITH"]


@either_way
def test_the_instances_are_then_the_sessions_own_as_if_loaded(
    engine: Engine, make_case: Callable[..., Case]
) -> None:
    """Found by primary key without a question to the database; nothing left to flush; a
    change made afterwards is an UPDATE checked against the version written."""
    case = make_case("SY-3", "strategy")
    with Session(engine) as session:
        insert_new(session, [case, *case.notes])
        sent = statements_of(engine)
        assert session.get(Case, case.id) is case
        assert (case.priority, case.closed_at) == ("routine", None)
        assert [note.kind for note in case.notes] == ["strategy"]  # loaded with it
        assert not session.new
        assert not session.dirty
        assert sent == []
        case.priority = "urgent"
        session.commit()
    assert any(sql.startswith("UPDATE cases") and "row_version" in sql for sql in sent)

    with Session(engine) as session:
        assert session.scalars(select(Case.priority)).one() == "urgent"
        assert session.scalar(select(func.count()).select_from(Note)) == 1


def test_a_reference_already_taken_is_refused_as_a_flush_refuses_it_and_nothing_is_written(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        first = new_case("SY-4")
        insert_new(session, [first])
        session.commit()

    again = new_case("SY-4", "strategy")
    with Session(engine) as session:
        with pytest.raises(IntegrityError):
            insert_new(session, [again, *again.notes])
        session.rollback()
        assert again not in session
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(Note)) == 0


def test_the_same_shapes_send_the_same_statement_every_time(engine: Engine) -> None:
    """Built once for each set of shapes: SQLAlchemy compiles it once and the server prepares it."""
    sent = statements_of(engine)
    for n in range(3):
        case = new_case(f"SY-5{n}", "strategy")
        with sessionmaker(engine)() as session:
            insert_new(session, [case, *case.notes])
            session.commit()
    inserts = [sql for sql in sent if "INSERT INTO cases" in sql]
    assert len(inserts) == 3
    assert len(set(inserts)) == 1


def test_a_row_inserted_unless_present_is_written_once_in_one_statement_however_often_asked(
    engine: Engine,
) -> None:
    """A consumer told twice that an agency works with a case (a redelivery, or a second
    referral) keeps one row, and neither telling asks the database first."""
    case = new_case("SY-6")
    case_id = case.id
    with Session(engine) as session:
        insert_new(session, [case])
        session.commit()
    sent = statements_of(engine)
    with Session(engine) as session:
        assert insert_unless_present(session, Note(case_id=case_id, kind="strategy")) is True
        assert insert_unless_present(session, Note(case_id=case_id, kind="strategy")) is False
        session.commit()
    assert [sql.split()[0] for sql in sent if not sql.startswith(("BEGIN", "COMMIT"))] == ["INSERT", "INSERT"]
    with Session(engine) as session:
        assert session.scalars(select(Note.kind)).all() == ["strategy"]


@either_way
def test_rows_held_back_are_written_by_their_holder_and_only_then_the_sessions(
    engine: Engine, make_case: Callable[..., Case]
) -> None:
    """A caller about to send a statement of its own (the outbox, writing a change's events)
    holds back what insert_new is given meanwhile, and writes it with that statement."""
    case = make_case("SY-7", "strategy")
    sent = statements_of(engine)
    with Session(engine) as session:
        with holding_new_rows(session) as held:
            insert_new(session, [case, *case.notes])
        assert held == [case, *case.notes]
        assert sent == []
        assert case not in session
        insert_new(session, held)  # as the holder does where it cannot send them with its own
        assert case in session
        session.commit()
    with Session(engine) as session:
        assert session.scalars(select(Case.reference)).all() == ["SY-7"]


OPEN_CASES = select(Case.reference).where(Case.closed_at.is_(None)).order_by(Case.reference)


@either_way
def test_new_rows_and_the_question_asked_next_go_in_one_statement_on_postgresql(
    engine: Engine, make_case: Callable[..., Case]
) -> None:
    """The referral service writes a referral and reads the partners' webhooks it is about to
    announce it to: one round trip on PostgreSQL, where the query sees the database as it was
    before the inserts; on SQLite the query follows them."""
    with Session(engine) as session:
        insert_new(session, [make_case("SY-8")])
        session.commit()
    case = make_case("SY-9", "strategy")
    sent = statements_of(engine)
    with Session(engine) as session:
        read = insert_new_then_read(session, [case, *case.notes], OPEN_CASES)
        assert case in session
        session.commit()
    writing = [sql.split()[0] for sql in sent if not sql.startswith(("BEGIN", "COMMIT"))]
    with Session(engine) as session:
        assert session.scalars(OPEN_CASES).all() == ["SY-8", "SY-9"]
    if engine.dialect.name == "postgresql":
        assert [row.reference for row in read] == ["SY-8"]
        assert writing == ["WITH"]
    else:
        assert [row.reference for row in read] == ["SY-8", "SY-9"]


def test_a_case_built_as_loaded_and_added_is_flushed_with_its_notes(engine: Engine) -> None:
    """Where the unit of work writes it (a migrated referral), a built instance and the
    notes set on it are inserted as a constructed one's, with the columns' defaults."""
    case = built_case("SY-11", "strategy")
    with Session(engine) as session:
        session.add(case)
        session.commit()
    with Session(engine) as session:
        stored = session.scalars(select(Case)).one()
        assert (stored.reference, stored.priority, stored.row_version) == ("SY-11", "routine", 1)
        assert stored.opened_at is not None
        assert session.scalars(select(Note.kind)).all() == ["strategy"]


def test_a_name_the_class_does_not_map_is_refused_as_the_constructor_refuses_it() -> None:
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Case"):
        built(Case, reference="SY-12", colour="red")
    with pytest.raises(TypeError, match="'colour' is an invalid keyword argument for Case"):
        Case(reference="SY-12", colour="red")
