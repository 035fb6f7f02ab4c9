"""The outbox and relay: signed deliveries, order per child, back-off and dead letters."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeguarding_kit.db import Database, service_metadata, utc_now
from safeguarding_kit.events import (
    DEAD,
    MAX_ATTEMPTS,
    EventTables,
    Subscriber,
    backoff,
    emit,
    event_tables,
    first_time,
    relay_once,
    verify_signature,
)
from safeguarding_kit.throwaway_database import provisioned_database

SECRET = "a-test-secret-of-enough-length-0123456789"
RISK = Subscriber(name="risk-api", url="http://risk.test/internal/events", types=["referral.received"])


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[tuple[Database, EventTables]]:
    metadata = service_metadata()
    tables = event_tables(metadata)
    with provisioned_database("events", tmp_path) as url:
        database = Database(url)
        metadata.create_all(database.engine)
        yield database, tables
        database.dispose()


class Receiver:
    """A partner's endpoint: verifies every signature, can be made to fail."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.failing = False
        self.bad_signatures = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not verify_signature(SECRET, request.headers, request.content):
            self.bad_signatures += 1
            return httpx.Response(401)
        if self.failing:
            return httpx.Response(500)
        self.received.append(json.loads(request.content))
        return httpx.Response(204)


def emit_referral(database: Database, tables: EventTables, child: str) -> uuid.UUID:
    with database.sessions() as session:
        event_id = emit(
            session,
            tables,
            [RISK],
            source="referral-api",
            type="referral.received",
            subject=child,
            data={"child_id": child},
        )
        session.commit()
    return event_id


def test_events_are_signed_cloudevents_delivered_once(outbox):
    database, tables = outbox
    receiver = Receiver()
    client = httpx.Client(transport=httpx.MockTransport(receiver.handler))
    event_id = emit_referral(database, tables, "child-1")
    assert relay_once(database, tables, client, SECRET, "test") == 1
    assert relay_once(database, tables, client, SECRET, "test") == 0
    [event] = receiver.received
    assert (event["specversion"], event["id"], event["type"]) == ("1.0", str(event_id), "referral.received")
    assert receiver.bad_signatures == 0


def test_a_tampered_body_or_an_old_timestamp_fails_verification():
    from safeguarding_kit.events import sign

    body = b'{"id": "1"}'
    stamp = int(time.time())
    headers = {
        "webhook-id": "m1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(SECRET, "m1", stamp, body),
    }
    assert verify_signature(SECRET, headers, body)
    assert not verify_signature(SECRET, headers, b'{"id": "2"}')
    assert not verify_signature("another-secret-entirely-0123456789", headers, body)
    old = {
        **headers,
        "webhook-timestamp": str(stamp - 3600),
        "webhook-signature": sign(SECRET, "m1", stamp - 3600, body),
    }
    assert not verify_signature(SECRET, old, body)


def test_a_child_s_events_wait_behind_an_undelivered_earlier_one(outbox):
    database, tables = outbox
    receiver = Receiver()
    client = httpx.Client(transport=httpx.MockTransport(receiver.handler))
    first = emit_referral(database, tables, "child-1")
    second = emit_referral(database, tables, "child-1")
    receiver.failing = True
    relay_once(database, tables, client, SECRET, "test")
    receiver.failing = False
    other = emit_referral(database, tables, "child-2")
    assert relay_once(database, tables, client, SECRET, "test") == 1  # child-2 only: child-1 is backing off
    with database.sessions() as session:  # the back-off passes
        session.execute(update(tables.deliveries).values(next_attempt_at=utc_now() - timedelta(hours=1)))
        session.commit()
    relay_once(database, tables, client, SECRET, "test")
    relay_once(database, tables, client, SECRET, "test")
    order = [e["id"] for e in receiver.received]
    assert order == [str(other), str(first), str(second)]


def test_a_receiver_answering_500_is_retried_with_back_off_then_dead_lettered(outbox):
    database, tables = outbox
    receiver = Receiver()
    receiver.failing = True
    client = httpx.Client(transport=httpx.MockTransport(receiver.handler))
    emit_referral(database, tables, "child-1")
    for _ in range(MAX_ATTEMPTS):
        relay_once(database, tables, client, SECRET, "test")
        with database.sessions() as session:
            session.execute(update(tables.deliveries).values(next_attempt_at=utc_now() - timedelta(hours=1)))
            session.commit()
    with database.sessions() as session:
        status, attempts = session.execute(
            select(tables.deliveries.c.status, tables.deliveries.c.attempts)
        ).one()
    assert (status, attempts) == (DEAD, MAX_ATTEMPTS)
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [1, 2, 4, 300]


def test_a_redelivered_event_is_applied_once(outbox):
    database, tables = outbox
    event_id = uuid.uuid4()
    with database.sessions() as session:
        assert first_time(session, tables, event_id, "referral.received")
        session.commit()
    with database.sessions() as session:
        assert not first_time(session, tables, event_id, "referral.received")


def test_an_event_rolled_back_with_its_change_is_never_sent(outbox):
    database, tables = outbox
    with database.sessions() as session:
        emit(session, tables, [RISK], source="referral-api", type="referral.received", subject="c", data={})
        session.rollback()
    receiver = Receiver()
    assert (
        relay_once(
            database, tables, httpx.Client(transport=httpx.MockTransport(receiver.handler)), SECRET, "test"
        )
        == 0
    )


def test_the_service_can_write_while_the_relay_waits_on_a_receiver(outbox):
    # A partner's server that is slow to answer (or never answers, until the timeout) must
    # not stop the service's own writes: on SQLite the relay holds no write lock while it
    # sends, and on PostgreSQL it locks only the deliveries it is sending.
    database, tables = outbox
    for child in ("child-1", "child-2", "child-3"):
        emit_referral(database, tables, child)
    writes_during_sends: list[str] = []

    def slow_receiver(request: httpx.Request) -> httpx.Response:
        # While this delivery is in flight, another request of the service writes, and must
        # not wait (SQLite: no busy wait; PostgreSQL: a lock timeout).
        with database.engine.connect() as other:
            if other.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout = 0")
            else:
                other.exec_driver_sql("SET lock_timeout = '100ms'")
            with Session(other) as session:
                emit(
                    session,
                    tables,
                    [],
                    source="referral-api",
                    type="child.linked",
                    subject="child-9",
                    data={},
                )
                session.commit()
            writes_during_sends.append(json.loads(request.content)["subject"])
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(slow_receiver))
    assert relay_once(database, tables, client, SECRET, "test") == 3
    assert sorted(writes_during_sends) == ["child-1", "child-2", "child-3"]
