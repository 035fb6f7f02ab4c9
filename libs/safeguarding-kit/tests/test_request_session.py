"""A request's database session (``SessionDep``): made for the request and closed when it
ends, with its connection back in the pool and whatever it left uncommitted rolled back,
whether the endpoint committed, failed half way, or only read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from safeguarding_kit.db import Database, SessionDep
from safeguarding_kit.problems import Problem, install_problem_handlers
from safeguarding_kit.throwaway_database import provisioned_database

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String(40)))


class NoteRefused(Problem):
    status, slug, title = 409, "note-refused", "Note refused"


def service_on(database: Database) -> FastAPI:
    app = FastAPI()
    app.state.database = database
    install_problem_handlers(app)

    @app.post("/notes")
    def add_note(text: str, session: SessionDep, refuse_after_writing: bool = False) -> dict[str, str]:
        session.execute(insert(notes).values(text=text))
        if refuse_after_writing:
            raise NoteRefused("Refused after the note was written, before the commit.")
        session.commit()
        return {"text": text}

    @app.get("/notes")
    def read_notes(session: SessionDep) -> list[str]:
        return list(session.scalars(select(notes.c.text).order_by(notes.c.id)))  # never commits

    return app


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with provisioned_database("request-session", tmp_path) as url:
        # One connection: a request that kept it would leave the next one none.
        database = Database(url, pool_size=1)
        metadata.create_all(database.engine)
        yield database
        database.dispose()


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(service_on(database)) as client:
        yield client


def in_use(database: Database) -> int:
    return int(database.engine.pool.checkedout())  # type: ignore[attr-defined]


def test_a_committed_change_is_kept_and_its_connection_given_back(
    client: TestClient, database: Database
) -> None:
    assert client.post("/notes", params={"text": "seen at the station"}).status_code == 200
    assert in_use(database) == 0
    assert client.get("/notes").json() == ["seen at the station"]


def test_a_request_refused_half_way_leaves_nothing_written(client: TestClient, database: Database) -> None:
    refused = client.post("/notes", params={"text": "half written", "refuse_after_writing": "true"})

    assert refused.status_code == 409
    assert in_use(database) == 0  # rolled back and given back, on the single connection
    assert client.get("/notes").json() == []
    with database.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(notes)) == 0


def test_a_read_that_never_commits_gives_its_connection_back(client: TestClient, database: Database) -> None:
    for _ in range(3):  # each would wait for the one connection if the last kept it
        assert client.get("/notes").status_code == 200
        assert in_use(database) == 0
