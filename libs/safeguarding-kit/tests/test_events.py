"""The outbox and relay: signed deliveries, order per child, back-off and dead letters."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeguarding_kit import outbound_urls
from safeguarding_kit.cloudevents import CLOUDEVENTS_BATCH_JSON
from safeguarding_kit.db import Database, service_metadata, utc_now
from safeguarding_kit.events import (
    DEAD,
    MAX_ATTEMPTS,
    PENDING,
    EventTables,
    NewEvent,
    Outbox,
    RelayPolicy,
    Subscriber,
    Undelivered,
    backoff,
    deliver,
    emit,
    emit_all,
    event_tables,
    events_router,
    first_time,
    gives_up,
    relay_once,
    verify_signature,
)
from safeguarding_kit.problems import install_problem_handlers
from safeguarding_kit.testing import deliver_batch, referral_event
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
        self.received.extend(events_sent(request))
        return applied(request)


def events_sent(request: httpx.Request) -> list[dict[str, Any]]:
    """The events a relay's request carries: one, or a batch of several lanes' events."""
    sent = json.loads(request.content)
    return sent if request.headers["content-type"] == CLOUDEVENTS_BATCH_JSON else [sent]


def applied(request: httpx.Request) -> httpx.Response:
    """A platform service's answer to a request whose every event it applied."""
    if request.headers["content-type"] != CLOUDEVENTS_BATCH_JSON:
        return httpx.Response(204)
    return httpx.Response(
        200, json={"results": [{"id": e["id"], "status": 204} for e in events_sent(request)]}
    )


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


def test_a_change_s_events_are_recorded_together_and_reach_a_subscriber_in_the_order_given(outbox):
    """A referral about a new child announces the child's link, then the referral: on
    PostgreSQL one statement records the events and their deliveries (SQLite inserts the
    events one by one, then the deliveries), and the relay sends them in the order given."""
    database, tables = outbox
    kinds = ["child.agency_linked", "referral.received", "referral.status_changed"]
    risk = Subscriber(name="risk-api", url="http://risk.test/internal/events", types=kinds)
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sqlalchemy_event.listen(database.engine, "before_cursor_execute", remember)
    try:
        with database.sessions() as session:
            ids = emit_all(
                session,
                tables,
                [risk],
                [NewEvent(kind, "child-1", {"child_id": "child-1"}) for kind in kinds],
                source="referral-api",
            )
            session.commit()
    finally:
        sqlalchemy_event.remove(database.engine, "before_cursor_execute", remember)
    writes = [sql for sql in statements if sql.startswith(("INSERT", "WITH"))]
    if database.engine.dialect.name == "postgresql":
        assert len(writes) == 1
    assert sum("outbox_deliveries" in sql for sql in writes) == 1
    receiver = Receiver()
    client = httpx.Client(transport=httpx.MockTransport(receiver.handler))
    while relay_once(database, tables, client, SECRET, "test"):
        pass
    assert [(e["id"], e["type"]) for e in receiver.received] == list(zip(map(str, ids), kinds, strict=True))


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


def test_a_relay_pass_sends_a_service_its_due_events_together_and_records_each_outcome(outbox):
    """Three children's deliveries in one pass go to the service in one request, in order;
    it refuses one: each row gets its own outcome, written by one UPDATE for the pass
    (values as parameters, not a statement per row)."""
    database, tables = outbox
    refused_child = "child-2"
    requests: list[list[str]] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == CLOUDEVENTS_BATCH_JSON
        assert verify_signature(SECRET, request.headers, request.content)
        events = json.loads(request.content)
        requests.append([event["subject"] for event in events])
        results = [
            {"id": event["id"], "status": 422 if event["subject"] == refused_child else 204}
            for event in events
        ]
        return httpx.Response(200, json={"results": results})

    for child in ("child-1", refused_child, "child-3"):
        emit_referral(database, tables, child)
    updates: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE outbox_deliveries"):
            updates.append(statement)

    sqlalchemy_event.listen(database.engine, "before_cursor_execute", remember)
    try:
        client = httpx.Client(transport=httpx.MockTransport(receiver))
        assert relay_once(database, tables, client, SECRET, "test") == 2
    finally:
        sqlalchemy_event.remove(database.engine, "before_cursor_execute", remember)
    assert requests == [["child-1", "child-2", "child-3"]]
    assert len(updates) == 1
    with database.sessions() as session:
        rows = session.execute(
            select(
                tables.deliveries.c.subject, tables.deliveries.c.status, tables.deliveries.c.attempts
            ).order_by(tables.deliveries.c.subject)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("child-1", "delivered", 1),
        ("child-2", PENDING, 1),
        ("child-3", "delivered", 1),
    ]


def test_a_service_that_takes_one_event_at_a_time_gets_a_refused_batch_one_by_one(outbox):
    """An older release of a service during an upgrade answers a batch 400 (not one event):
    the pass sends it the same events one at a time, and nothing is refused for its form."""
    database, tables = outbox
    singles: list[str] = []

    def older_release(request: httpx.Request) -> httpx.Response:
        if request.headers["content-type"] == CLOUDEVENTS_BATCH_JSON:
            return httpx.Response(400)
        singles.append(json.loads(request.content)["subject"])
        return httpx.Response(204)

    for child in ("child-1", "child-2"):
        emit_referral(database, tables, child)
    client = httpx.Client(transport=httpx.MockTransport(older_release))
    assert relay_once(database, tables, client, SECRET, "test") == 2
    assert singles == ["child-1", "child-2"]


def receiving_app(database: Database, tables: EventTables, handlers: dict[str, Any]) -> FastAPI:
    """A service that takes events with ``handlers`` (its answers to failures as every service's)."""
    app = FastAPI()
    app.state.database = database
    install_problem_handlers(app)
    app.include_router(events_router(tables, SECRET, handlers))
    return app


def committed_transactions(database: Database) -> list[int]:
    """A list that grows by one at each commit on ``database``'s engine."""
    commits: list[int] = []
    sqlalchemy_event.listen(database.engine, "commit", lambda connection: commits.append(1))
    return commits


def test_a_batchs_events_are_applied_in_order_in_one_transaction(outbox):
    """A commit (and an audit append) for each event was most of what applying one cost: a
    batch that applies cleanly is one transaction, its events applied in the order sent."""
    database, tables = outbox
    applied_to: list[str] = []
    app = receiving_app(database, tables, {"referral.received": lambda s, e: applied_to.append(e["subject"])})
    batch = [referral_event("referral.received", f"child-{n}") for n in (1, 2, 3)]
    with TestClient(app) as client:
        commits = committed_transactions(database)
        answer = deliver_batch(client, batch, receiver="test", secret=SECRET)
    assert [r["status"] for r in answer.json()["results"]] == [204, 204, 204]
    assert applied_to == ["child-1", "child-2", "child-3"]
    assert len(commits) == 1
    with database.sessions() as session:
        assert set(session.scalars(select(tables.inbox.c.id))) == {uuid.UUID(e["id"]) for e in batch}


def test_a_batchs_events_go_into_the_inbox_in_one_statement_and_a_repeat_within_it_once(outbox):
    """An insert into the inbox for each event was a round trip each: a batch's are written
    together, before any is applied. The insert itself tells which the inbox had not had: the
    inbox is not read first (a read that, planned while the table was small and then never
    again, scanned the whole inbox for every batch). An event sent twice in one batch is
    applied once."""
    database, tables = outbox
    applied_to: list[str] = []
    app = receiving_app(database, tables, {"referral.received": lambda s, e: applied_to.append(e["subject"])})
    first, second = (referral_event("referral.received", f"child-{n}") for n in (1, 2))
    inbox_statements: list[str] = []

    def note_inbox_statements(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "inbox_events" in statement:
            inbox_statements.append(statement)

    sqlalchemy_event.listen(database.engine, "before_cursor_execute", note_inbox_statements)
    with TestClient(app) as client:
        answer = deliver_batch(client, [first, second, first], receiver="test", secret=SECRET)
    assert [r["status"] for r in answer.json()["results"]] == [204, 204, 204]
    assert applied_to == ["child-1", "child-2"]
    [inbox_write] = inbox_statements
    assert inbox_write.startswith("INSERT INTO inbox_events")
    with database.sessions() as session:
        remembered = set(session.scalars(select(tables.inbox.c.id)))
    assert remembered == {uuid.UUID(first["id"]), uuid.UUID(second["id"])}


def test_a_batch_sent_again_with_a_new_event_applies_only_the_new_one(outbox):
    """The relay resends a batch whose answer it lost, with what fell due since: the inbox
    passes over what it has had, in the same one transaction."""
    database, tables = outbox
    applied_to: list[str] = []
    app = receiving_app(database, tables, {"referral.received": lambda s, e: applied_to.append(e["subject"])})
    first = [referral_event("referral.received", f"child-{n}") for n in (1, 2)]
    with TestClient(app) as client:
        deliver_batch(client, first, receiver="test", secret=SECRET)
        again = deliver_batch(
            client, [*first, referral_event("referral.received", "child-3")], receiver="test", secret=SECRET
        )
    assert [r["status"] for r in again.json()["results"]] == [204, 204, 204]
    assert applied_to == ["child-1", "child-2", "child-3"]


def test_an_event_another_replica_is_applying_is_waited_for_then_passed_over(outbox):
    """Two replicas of a service given overlapping batches (a relay's retry crossing its
    first send): the one that comes second waits for the other's transaction, then applies
    only what that one did not, in the same one transaction: each event applied once."""
    database, tables = outbox
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no replica to wait for")
    applied_to: list[str] = []
    app = receiving_app(database, tables, {"referral.received": lambda s, e: applied_to.append(e["subject"])})
    batch = [referral_event("referral.received", f"child-{n}") for n in (1, 2, 3)]
    answers: list[httpx.Response] = []
    commits = committed_transactions(database)
    with database.engine.connect() as other_replica, TestClient(app) as client:
        other_replica.execute(
            tables.inbox.insert(),
            {"id": uuid.UUID(batch[1]["id"]), "type": "referral.received", "received_at": utc_now()},
        )
        second = threading.Thread(
            target=lambda: answers.append(deliver_batch(client, batch, receiver="test", secret=SECRET))
        )
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the second replica should wait for the first's transaction"
        other_replica.commit()
        second.join(timeout=10)
    [answer] = answers
    assert [r["status"] for r in answer.json()["results"]] == [204, 204, 204]
    assert applied_to == ["child-1", "child-3"]
    assert len(commits) == 2  # the other replica's, and this batch's one transaction
    with database.sessions() as session:
        remembered = set(session.scalars(select(tables.inbox.c.id)))
    assert remembered == {uuid.UUID(e["id"]) for e in batch}


def test_a_handler_failing_on_one_event_of_a_batch_fails_that_event_alone(outbox):
    """A bug that breaks one event's handler answers 500 for that event only: the others are
    applied (each then in a transaction of its own), and only the broken one is retried (and
    dead-lettered) by the relay."""
    database, tables = outbox

    def broken(session: Session, event: dict[str, Any]) -> None:
        raise RuntimeError("a bug in one handler")

    app = receiving_app(database, tables, {"referral.received": lambda s, e: None, "child.x": broken})
    batch = [
        referral_event("referral.received", "child-1"),
        referral_event("child.x", "child-2"),
        referral_event("referral.received", "child-3"),
    ]
    with TestClient(app) as client:
        answer = deliver_batch(client, batch, receiver="test", secret=SECRET)
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == [204, 500, 204]
    with database.sessions() as session:  # the broken one is not remembered: its retry is applied
        remembered = set(session.scalars(select(tables.inbox.c.id)))
    assert remembered == {uuid.UUID(batch[0]["id"]), uuid.UUID(batch[2]["id"])}


def test_a_database_gone_mid_batch_fails_the_whole_batch_as_unavailable(outbox):
    """The database, not the event: 503 for the batch, which the relay sends again for as long
    as the outage lasts, and never dead-letters."""
    database, tables = outbox

    def database_gone(session: Session, event: dict[str, Any]) -> None:
        raise OperationalError("SELECT 1", {}, Exception("the server closed the connection"))

    app = receiving_app(database, tables, {"referral.received": database_gone})
    with TestClient(app) as client:
        answer = deliver_batch(
            client,
            [referral_event("referral.received", f"child-{n}") for n in (1, 2)],
            receiver="test",
            secret=SECRET,
        )
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"


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


def _try_until_past_max_attempts(database: Database, tables: EventTables, client: httpx.Client) -> None:
    for _ in range(MAX_ATTEMPTS + 3):
        relay_once(database, tables, client, SECRET, "test")
        with database.sessions() as session:
            session.execute(update(tables.deliveries).values(next_attempt_at=utc_now() - timedelta(hours=1)))
            session.commit()


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(httpx.ConnectError("connection refused"), id="stopped"),
        pytest.param(httpx.ConnectTimeout("no answer"), id="network-down"),
        pytest.param(503, id="starting-up"),
        pytest.param(502, id="behind-a-proxy"),
    ],
)
def test_a_platform_service_that_is_down_keeps_its_events_however_long_the_outage(outbox, outage):
    """The referral service's chronology must catch up after it was stopped: a sibling that
    cannot be reached is retried at the capped back-off past ``max_attempts``, and gets every
    event, in order, once it is back."""
    database, tables = outbox
    receiver = Receiver()
    down = True

    def handler(request: httpx.Request) -> httpx.Response:
        if down:
            if isinstance(outage, Exception):
                raise outage
            return httpx.Response(outage)
        return receiver.handler(request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    first, second = emit_referral(database, tables, "child-1"), emit_referral(database, tables, "child-1")
    _try_until_past_max_attempts(database, tables, client)
    with database.sessions() as session:
        statuses = session.execute(
            select(tables.deliveries.c.status, tables.deliveries.c.attempts).order_by(tables.deliveries.c.id)
        ).all()
    assert [status for status, _ in statuses] == [PENDING, PENDING]
    assert statuses[0].attempts > MAX_ATTEMPTS  # the child's first event, tried on and on
    assert statuses[1].attempts == 0  # its second waits behind it, in order

    down = False
    relay_once(database, tables, client, SECRET, "test")
    with database.sessions() as session:
        session.execute(update(tables.deliveries).values(next_attempt_at=utc_now() - timedelta(hours=1)))
        session.commit()
    relay_once(database, tables, client, SECRET, "test")
    assert [e["id"] for e in receiver.received] == [str(first), str(second)]


def test_a_platform_service_that_refuses_an_event_dead_letters_it_so_the_child_s_lane_moves_on(outbox):
    database, tables = outbox
    refusing = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(422)))
    emit_referral(database, tables, "child-1")
    _try_until_past_max_attempts(database, tables, refusing)
    with database.sessions() as session:
        assert session.scalar(select(tables.deliveries.c.status)) == DEAD


def test_a_partner_webhook_that_cannot_be_reached_is_given_up_after_max_attempts():
    unreachable = Undelivered("ConnectError", receiver_unreachable=True)
    policy = RelayPolicy()
    partner, platform = SimpleNamespace(endpoint_id=uuid.uuid4()), SimpleNamespace(endpoint_id=None)
    assert gives_up(partner, unreachable, MAX_ATTEMPTS, policy)
    assert not gives_up(platform, unreachable, MAX_ATTEMPTS * 100, policy)
    assert backoff(5000, policy).total_seconds() == policy.backoff_cap_seconds  # no overflow


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
            writes_during_sends.extend(event["subject"] for event in events_sent(request))
        return applied(request)

    client = httpx.Client(transport=httpx.MockTransport(slow_receiver))
    assert relay_once(database, tables, client, SECRET, "test") == 3
    assert sorted(writes_during_sends) == ["child-1", "child-2", "child-3"]


# A partner's webhook: delivered to the address that was checked, never resolved again.

PARTNER_SECRET = "whsec_" + "p" * 40
PUBLIC = "93.184.215.14"


def partner_delivery(url: str, *, endpoint: bool = True) -> SimpleNamespace:
    """A pending delivery as the relay reads it from its outbox: to a partner's webhook
    endpoint, or (``endpoint=False``) to one of the platform's own services."""
    return SimpleNamespace(
        endpoint_id=uuid.uuid4() if endpoint else None,
        endpoint_secret=PARTNER_SECRET if endpoint else None,
        url=url,
        event_id=uuid.uuid4(),
        subscriber="webhook-test",
        source="referral-api",
        type="referral.received",
        subject="child-1",
        occurred_at=utc_now(),
        data={"child_id": "child-1"},
    )


def test_a_name_rebound_to_a_private_address_after_the_check_is_not_connected_to(monkeypatch):
    """DNS rebinding: the partner's name answers a public address when the relay checks it
    and the cloud metadata address a moment later, when the connection is made."""
    answers = iter([PUBLIC, "169.254.169.254"])
    lookups: list[str] = []
    connected_to: list[tuple[str, int]] = []

    def rebinding_resolver(host: str, port: Any, *_: Any, **__: Any) -> list[Any]:
        try:
            address = str(ipaddress.ip_address(host))  # a literal address is not looked up
        except ValueError:
            lookups.append(host)
            address = next(answers, "169.254.169.254")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    def recording_connect(address: tuple[str, int], *_: Any, **__: Any) -> socket.socket:
        # As socket.create_connection does: resolve, then connect (here: record, refuse).
        host, port = address
        for *_info, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
            connected_to.append((sockaddr[0], sockaddr[1]))
        raise ConnectionRefusedError("not in a test")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    monkeypatch.setattr(socket, "create_connection", recording_connect)
    # As relay_thread makes the client, but with no proxy from the environment: connect directly.
    with httpx.Client(timeout=2, follow_redirects=False, trust_env=False) as client:
        outcome = deliver(
            client,
            SECRET,
            partner_delivery("https://hooks.partner.example/safeguarding"),
            private_addresses_allowed=False,
        )

    # Refused by the stand-in, not by the check.
    assert outcome == Undelivered("ConnectError", receiver_unreachable=True)
    assert connected_to == [(PUBLIC, 443)], "the relay connected to an address it never checked"
    assert lookups == ["hooks.partner.example"]  # resolved once, for the check


@pytest.mark.parametrize(
    ("url", "address", "sent_to", "host"),
    [
        (
            "https://hooks.partner.example/safeguarding?v=1",
            PUBLIC,
            f"https://{PUBLIC}/safeguarding?v=1",
            "hooks.partner.example",
        ),
        (
            "https://Hooks.Partner.example:8443/safeguarding",
            "2606:2800:220:1:248:1893:25c8:1946",
            "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/safeguarding",
            "hooks.partner.example:8443",
        ),
    ],
)
def test_a_partner_delivery_goes_to_the_checked_address_named_by_its_host(
    monkeypatch, url, address, sent_to, host
):
    lookups: list[tuple[str, int]] = []

    def resolve(name: str, port: int, **_: object) -> list:
        lookups.append((name, port))
        return [ipaddress.ip_address(address), ipaddress.ip_address("93.184.215.15")]

    monkeypatch.setattr(outbound_urls, "resolved_addresses", resolve)
    sent: list[httpx.Request] = []

    def partner(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        ok = verify_signature(PARTNER_SECRET, request.headers, request.content)
        return httpx.Response(204 if ok else 401)

    with httpx.Client(transport=httpx.MockTransport(partner)) as client:
        assert deliver(client, SECRET, partner_delivery(url), private_addresses_allowed=False) is None

    [request] = sent
    assert lookups == [("hooks.partner.example", httpx.URL(url).port or 443)]
    assert str(request.url) == sent_to  # the first checked address, the port and path kept
    assert request.headers["host"] == host
    assert request.extensions["sni_hostname"] == "hooks.partner.example"  # TLS checks the name
    assert request.headers["connection"] == "close"  # the pool never hands it to another name
    assert json.loads(request.content)["subject"] == "child-1"


def test_the_platforms_own_services_are_sent_to_as_named_and_not_checked(monkeypatch):
    def resolve(*_: object, **__: object) -> list:
        raise AssertionError("an internal subscriber's address was checked")

    monkeypatch.setattr(outbound_urls, "resolved_addresses", resolve)
    sent: list[httpx.Request] = []
    receiver = Receiver()

    def risk_api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return receiver.handler(request)

    with httpx.Client(transport=httpx.MockTransport(risk_api)) as client:
        row = partner_delivery("http://risk-api:8000/internal/events", endpoint=False)
        assert deliver(client, SECRET, row, private_addresses_allowed=False) is None
    [request] = sent
    assert str(request.url) == "http://risk-api:8000/internal/events"
    assert request.headers["host"] == "risk-api:8000"
    assert "sni_hostname" not in request.extensions
    assert receiver.bad_signatures == 0


# A real TLS receiver on the loopback address standing in for a partner's public server.


def _certificate_authority_and_leaf(names: list[str]) -> tuple[bytes, bytes, bytes]:
    """A test CA's certificate, and a server certificate (and its key) for ``names`` only:
    no IP address, so only a TLS check against the host name accepts it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def certificate(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("webhook test CA", ca_key, "webhook test CA", ca_key, True)
    leaf = certificate(names[0], leaf_key, "webhook test CA", ca_key, False)
    pem = serialization.Encoding.PEM
    return (
        ca.public_bytes(pem),
        leaf.public_bytes(pem),
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


@pytest.fixture
def tls_partner(tmp_path: Path, monkeypatch) -> Iterator[SimpleNamespace]:
    """An https receiver on 127.0.0.1 with a certificate for two partner names, each name
    resolving to it (and the loopback address passing for public, for these tests only)."""
    ca_pem, leaf_pem, key_pem = _certificate_authority_and_leaf(
        ["hooks.partner.example", "other.partner.example"]
    )
    (tmp_path / "leaf.pem").write_bytes(leaf_pem + key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "leaf.pem")
    handshakes: list[str | None] = []  # the SNI name of each TLS connection made
    server_context.sni_callback = lambda _socket, name, _context: handshakes.append(name)
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps the connection open unless asked to close it

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loopback = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(outbound_urls, "resolved_addresses", lambda host, port, **_: [loopback])
    monkeypatch.setattr(outbound_urls, "is_public_address", lambda address: address == loopback)
    try:
        yield SimpleNamespace(
            port=server.server_address[1],
            handshakes=handshakes,
            received=received,
            client=lambda: httpx.Client(
                timeout=5, trust_env=False, verify=ssl.create_default_context(cadata=ca_pem.decode())
            ),
        )
    finally:
        server.shutdown()
        server.server_close()


def test_tls_to_the_checked_address_is_verified_against_the_partners_host_name(tls_partner):
    port = tls_partner.port
    with tls_partner.client() as client:
        for name in ("hooks.partner.example", "other.partner.example"):
            row = partner_delivery(f"https://{name}:{port}/hook")
            assert deliver(client, SECRET, row, private_addresses_allowed=False) is None
        # A name the receiver's certificate does not carry: the TLS check refuses it.
        row = partner_delivery(f"https://wrong.partner.example:{port}/hook")
        failure = deliver(client, SECRET, row, private_addresses_allowed=False)
        assert failure == Undelivered("ConnectError", receiver_unreachable=True)

    # One handshake a delivery, each naming its own host: two names at one address never
    # share a connection (the second would otherwise go over the first one's TLS).
    assert tls_partner.handshakes == [
        "hooks.partner.example",
        "other.partner.example",
        "wrong.partner.example",
    ]
    assert [headers["host"] for headers, _ in tls_partner.received] == [
        f"hooks.partner.example:{port}",
        f"other.partner.example:{port}",
    ]
    for headers, body in tls_partner.received:
        assert verify_signature(PARTNER_SECRET, headers, body)


def test_a_projection_sees_each_of_the_service_s_own_events_in_the_transaction_that_writes_it(outbox):
    database, tables = outbox
    seen: list[dict[str, Any]] = []

    def project(session: Session, event: dict[str, Any]) -> None:
        assert session.in_transaction()
        seen.append(event)

    projected = Outbox(tables, [RISK], "referral-api", projections={"referral.received": project})
    with database.sessions() as session:
        kept = projected.emit(session, "referral.received", "child-1", {"child_id": "child-1"})
        projected.emit(session, "referral.status_changed", "child-1", {"child_id": "child-1"})
        session.commit()
    with database.sessions() as session:
        occurred_at = session.scalar(select(tables.events.c.occurred_at).where(tables.events.c.id == kept))
    assert [(e["id"], e["type"], e["subject"], e["data"]) for e in seen] == [
        (str(kept), "referral.received", "child-1", {"child_id": "child-1"})
    ]
    assert datetime.fromisoformat(seen[0]["time"]) == occurred_at  # the event's own time
