"""The one retry mechanism (``run_once``): a change is made once per agency, operation and
``Idempotency-Key``, and its first answer is what every retry gets; on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, String, Table, event, func, insert, select
from sqlalchemy.orm import Session

from safeguarding_kit.db import Database, service_metadata
from safeguarding_kit.idempotency import (
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    StoredResponse,
    WorkCommitted,
    agency_scope,
    claim_key,
    idempotency_table,
    request_fingerprint,
    run_once,
)
from safeguarding_kit.throwaway_database import provisioned_database

METADATA = service_metadata()
KEYS = idempotency_table(METADATA)
PLACES = Table(
    "places", METADATA, Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False)
)
KEY = "5f0c7a52-2b1e-4d4e-9a37-0f1f6f1c2b11"
CREATE_PLACE = "POST /api/v1/places-of-concern"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with provisioned_database("kit-idempotency", tmp_path) as url:
        database = Database(url)
        METADATA.create_all(database.engine)
        yield database
        database.dispose()


def create_place(session: Session, name: str) -> StoredResponse:
    """The work of a create: writes, does not commit, answers."""
    new_id = session.execute(insert(PLACES).values(name=name).returning(PLACES.c.id)).scalar_one()
    return StoredResponse(201, {"id": new_id, "name": name}, {"Location": f"/places/{new_id}"})


def places(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(PLACES.c.name).order_by(PLACES.c.id)))


def create_once(database: Database, *, agency: str, key: str | None, name: str) -> StoredResponse:
    with database.sessions() as session:
        return run_once(
            session,
            KEYS,
            scope=agency_scope(agency, CREATE_PLACE),
            key=key,
            fingerprint=request_fingerprint({"name": name}),
            work=lambda: create_place(session, name),
        )


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_and_changes_nothing(database):
    first = create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    retry = create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    assert first.status == retry.status == 201
    assert retry.body == first.body
    assert retry.headers == {"Location": f"/places/{first.body['id']}"}
    assert places(database) == ["Hotel"]


def test_the_same_key_with_another_body_is_422_naming_the_key_and_changes_nothing(database):
    create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    with pytest.raises(IdempotencyKeyReused) as refused:
        create_once(database, agency="south-yorkshire-police", key=KEY, name="Takeaway")
    assert refused.value.status == 422
    assert KEY in refused.value.detail
    assert [(e.parameter, e.location) for e in refused.value.errors or []] == [("Idempotency-Key", "header")]
    assert places(database) == ["Hotel"]


def test_one_agencys_key_never_answers_another_agencys_request(database):
    police = create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    social_care = create_once(database, agency="sheffield-social-care", key=KEY, name="Hotel")
    assert police.body["id"] != social_care.body["id"]
    assert places(database) == ["Hotel", "Hotel"]


def test_a_retry_while_the_first_request_runs_is_409_with_retry_after(database):
    with database.sessions() as session:  # the first request has claimed the key and is still working
        claim_key(
            session,
            KEYS,
            scope=agency_scope("south-yorkshire-police", CREATE_PLACE),
            key=KEY,
            request_hash=request_fingerprint({"name": "Hotel"}),
        )
    with pytest.raises(IdempotentRequestInFlight) as in_flight:
        create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    assert in_flight.value.status == 409
    assert in_flight.value.headers == {"Retry-After": "1"}
    assert places(database) == []


def test_work_that_fails_leaves_nothing_half_written_and_frees_the_key(database):
    def fail_after_writing(session: Session) -> StoredResponse:
        create_place(session, "Hotel")
        raise RuntimeError("the service failed after writing")

    with database.sessions() as session, pytest.raises(RuntimeError):
        run_once(
            session,
            KEYS,
            scope=agency_scope("south-yorkshire-police", CREATE_PLACE),
            key=KEY,
            fingerprint=request_fingerprint({"name": "Hotel"}),
            work=lambda: fail_after_writing(session),
        )
    assert places(database) == []
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(KEYS)) == 0
    assert create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel").status == 201
    assert places(database) == ["Hotel"]


def test_without_a_key_each_request_makes_its_own_record(database):
    create_once(database, agency="south-yorkshire-police", key=None, name="Hotel")
    create_once(database, agency="south-yorkshire-police", key=None, name="Hotel")
    assert places(database) == ["Hotel", "Hotel"]


def test_work_that_commits_by_itself_is_refused_as_a_bug(database):
    """The answer must commit with the change; work that commits on its own could leave a
    change whose answer is lost, so run_once refuses it (and frees the key)."""

    def commit_early(session: Session) -> StoredResponse:
        answer = create_place(session, "Hotel")
        session.commit()
        return answer

    with database.sessions() as session, pytest.raises(WorkCommitted):
        run_once(
            session,
            KEYS,
            scope=agency_scope("south-yorkshire-police", CREATE_PLACE),
            key=KEY,
            fingerprint=request_fingerprint({"name": "Hotel"}),
            work=lambda: commit_early(session),
        )
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(KEYS)) == 0


def test_on_postgresql_the_claim_commits_by_itself_in_one_round_trip_and_the_work_in_a_transaction(
    database,
):
    """The claim commits before the work starts, so that a retry arriving meanwhile sees it
    (409). On PostgreSQL it is sent in autocommit: the server commits it as it runs, one round
    trip where BEGIN, INSERT and COMMIT were three. The change and its answer still commit
    together, in a transaction."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite claims in a transaction as before")
    sent: list[tuple[str, bool]] = []

    def remember(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append((" ".join(statement.split()[:3]), connection.connection.dbapi_connection.autocommit))

    event.listen(database.engine, "before_cursor_execute", remember)
    create_once(database, agency="south-yorkshire-police", key=KEY, name="Hotel")
    event.remove(database.engine, "before_cursor_execute", remember)

    assert sent[0] == ("INSERT INTO idempotency_keys", True)
    assert [autocommit for _, autocommit in sent[1:]] == [False] * (len(sent) - 1)
    assert ("INSERT INTO places", False) in sent
    assert places(database) == ["Hotel"]
