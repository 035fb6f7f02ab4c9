"""Several relays over one PostgreSQL outbox at once (several worker processes of a
service, or several replicas): each delivery is sent exactly once and each child's
events still arrive in order, because the relay locks the rows it sends
(``FOR UPDATE SKIP LOCKED``) and only ever picks the first pending delivery of a lane
(one subscriber, one child), looking at all pending deliveries, not a page of them.
Within one relay, the due deliveries of a pass (each the head of its own lane) are sent
side by side by a pool of senders, and a relay thread makes pass after pass while a
backlog lasts.

SQLite has no row locks and no SKIP LOCKED: there ``FOR UPDATE`` is left out of the
query, and two relays sharing a database file could both read a pending delivery and
both send it (at least once still holds, and the consumers' inbox makes the repeat a
no-op). That is why each process runs a single relay thread and a SQLite database is
served by one process; the concurrent test runs on PostgreSQL only (the one about a
single relay and a long backlog runs on both).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from safeguarding_kit.cloudevents import CLOUDEVENTS_BATCH_JSON
from safeguarding_kit.db import Database, service_metadata, utc_now
from safeguarding_kit.events import (
    DELIVERED,
    PENDING,
    EventTables,
    RelayPolicy,
    Subscriber,
    emit,
    event_tables,
    relay_once,
    relay_thread,
    verify_signature,
)
from safeguarding_kit.testing import eventually
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

on_postgresql_only = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_URL_ENV),
    reason="concurrent relays need PostgreSQL row locks (FOR UPDATE SKIP LOCKED); SQLite has none, "
    "so a SQLite database is served by one process with one relay thread",
)

SECRET = "a-test-secret-of-enough-length-0123456789"
RELAYS = 4
CHILDREN = 60  # more lanes than one relay pass takes (50): relays send side by side
EVENTS_PER_CHILD = 5  # 300 in all: more than one pass of the old query read, so relays saw different rows
RECEIVER_DELAY_SECONDS = 0.002  # a slowish receiver, this long an event: the relays' passes overlap


class SlowReceiver:
    """A subscriber on a local port: checks each signature, records what it takes in the
    order it arrives, and takes a moment to answer. It can refuse (503) the first try of
    each child's event number ``refuse_first_try_of``."""

    def __init__(self) -> None:
        self.arrived: list[dict] = []
        self.refused: list[dict] = []
        self.requests: list[list[dict]] = []  # the events of each request, as they came
        self.refuse_first_try_of: int | None = None
        self.bad_signatures = 0
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                batch = headers["content-type"] == CLOUDEVENTS_BATCH_JSON
                events = json.loads(body) if batch else [json.loads(body)]
                with receiver.lock:
                    if not verify_signature(SECRET, headers, body):
                        receiver.bad_signatures += 1
                        statuses = [401]
                    else:
                        receiver.requests.append(events)
                        statuses = [receiver.take(event) for event in events]
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                time.sleep(RECEIVER_DELAY_SECONDS * len(events))
                with receiver.lock:
                    receiver.in_flight -= 1
                if batch and statuses != [401]:
                    results = [{"id": e["id"], "status": s} for e, s in zip(events, statuses, strict=True)]
                    answer = json.dumps({"results": results}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                self.send_response(statuses[0])
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/events"

    def take(self, event: dict) -> int:
        """Keep an event (204), or refuse the first try of the number to refuse (503)."""
        if event["data"]["n"] == self.refuse_first_try_of and event["id"] not in {
            e["id"] for e in self.refused
        }:
            self.refused.append(event)
            return 503
        self.arrived.append(event)
        return 204

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def outbox_url(tmp_path: Path) -> Iterator[tuple[str, EventTables]]:
    metadata = service_metadata()
    tables = event_tables(metadata)
    with provisioned_database("relays", tmp_path) as url:
        database = Database(url)
        metadata.create_all(database.engine)
        database.dispose()
        yield url, tables


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    r = SlowReceiver()
    yield r
    r.close()


def pending_count(database: Database, tables: EventTables) -> int:
    d = tables.deliveries
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).where(d.c.status == PENDING)) or 0)


def run_relays_together(
    url: str, tables: EventTables, policy: RelayPolicy, deadline_seconds: float = 60.0
) -> list[int]:
    """``RELAYS`` relays, each a thread with its own engine (its own connections), calling
    ``relay_once`` at the same time until the outbox is empty; how many each delivered."""
    start = threading.Barrier(RELAYS)
    delivered = [0] * RELAYS
    errors: list[BaseException] = []

    def relay(number: int) -> None:
        database = Database(url, pool_size=1)
        try:
            with httpx.Client(timeout=10) as client:
                start.wait()
                deadline = time.monotonic() + deadline_seconds
                while pending_count(database, tables) and time.monotonic() < deadline:
                    sent = relay_once(database, tables, client, SECRET, f"relay-{number}", policy)
                    delivered[number] += sent
                    if not sent:  # another relay holds what is due: wait a moment, as the relay thread does
                        time.sleep(0.005)
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=relay, args=(n,)) for n in range(RELAYS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return delivered


def level_changed(session: Session, tables: EventTables, subscriber: Subscriber, child: str, n: int) -> str:
    """The ``n``-th risk.level_changed event about ``child``, emitted; its id."""
    event_id = emit(
        session,
        tables,
        [subscriber],
        source="risk-api",
        type="risk.level_changed",
        subject=child,
        data={"child_id": child, "n": n},
    )
    return str(event_id)


def emit_interleaved(database: Database, tables: EventTables, subscriber: Subscriber) -> None:
    """``EVENTS_PER_CHILD`` events about each of ``CHILDREN`` children, interleaved as they happen."""
    with database.sessions() as session:
        for n in range(EVENTS_PER_CHILD):
            for c in range(CHILDREN):
                level_changed(session, tables, subscriber, f"child-{c}", n)
        session.commit()


def emitted_ids(database: Database, tables: EventTables) -> set[str]:
    with database.sessions() as session:
        return {str(event_id) for event_id in session.scalars(select(tables.events.c.id))}


def out_of_order(receiver: SlowReceiver) -> dict[str, list[int]]:
    """Children whose events arrived in another order than they were written."""
    arrived: dict[str, list[int]] = defaultdict(list)
    for event in receiver.arrived:
        arrived[event["subject"]].append(event["data"]["n"])
    return {child: numbers for child, numbers in arrived.items() if numbers != sorted(numbers)}


@on_postgresql_only
@pytest.mark.parametrize(
    "refused_first_try",
    [None, 2],
    ids=["all-taken-at-once", "each-child-s-third-event-refused-once-then-retried"],
)
def test_concurrent_relays_deliver_each_event_once_and_each_child_s_events_in_order(
    outbox_url, receiver, refused_first_try
):
    url, tables = outbox_url
    receiver.refuse_first_try_of = refused_first_try
    subscriber = Subscriber(name="meetings-api", url=receiver.url, types=["risk.level_changed"])
    database = Database(url)
    emit_interleaved(database, tables, subscriber)

    delivered_by_relay = run_relays_together(url, tables, RelayPolicy(backoff_base_seconds=0.02))

    # Exactly once: every event arrived, none twice, and the relays agree with the receiver.
    arrivals = Counter(event["id"] for event in receiver.arrived)
    assert set(arrivals) == emitted_ids(database, tables)
    assert [event_id for event_id, times in arrivals.items() if times > 1] == []
    assert sum(delivered_by_relay) == CHILDREN * EVENTS_PER_CHILD
    assert receiver.bad_signatures == 0
    # In order per child: each child's events arrived in the order they were written.
    assert out_of_order(receiver) == {}
    # Every delivery is recorded as delivered: at the first try, or the second when refused once.
    assert len(receiver.refused) == (CHILDREN if refused_first_try is not None else 0)
    d = tables.deliveries
    with database.sessions() as session:
        outcomes = session.execute(
            select(d.c.status, d.c.attempts, func.count())
            .group_by(d.c.status, d.c.attempts)
            .order_by(d.c.attempts)
        )
        assert [tuple(row) for row in outcomes] == [
            (DELIVERED, 1, CHILDREN * EVENTS_PER_CHILD - len(receiver.refused)),
            *([(DELIVERED, 2, len(receiver.refused))] if receiver.refused else []),
        ]
    database.dispose()
    # The relays really did send side by side (else the test would prove nothing).
    assert sum(1 for n in delivered_by_relay if n) >= 2, delivered_by_relay
    assert receiver.most_in_flight >= 2


def test_a_child_whose_deliveries_back_off_does_not_hold_up_other_children(outbox_url, receiver):
    # More of one child's deliveries wait (backing off) than a relay pass could read in one go.
    url, tables = outbox_url
    subscriber = Subscriber(name="meetings-api", url=receiver.url, types=["risk.level_changed"])
    database = Database(url)
    with database.sessions() as session:
        for n in range(250):
            level_changed(session, tables, subscriber, "child-backing-off", n)
        other = level_changed(session, tables, subscriber, "child-other", 0)
        d = tables.deliveries
        session.execute(
            update(d)
            .where(d.c.subject == "child-backing-off")
            .values(attempts=1, next_attempt_at=utc_now() + timedelta(minutes=5))
        )
        session.commit()

    with httpx.Client(timeout=10) as client:
        assert relay_once(database, tables, client, SECRET, "test") == 1
    database.dispose()

    assert [event["id"] for event in receiver.arrived] == [other]


def test_one_relay_sends_the_heads_of_many_lanes_together_and_each_child_s_events_stay_in_order(
    outbox_url, receiver
):
    # After a burst, a slow receiver: one relay sends the service the first pending event of
    # many lanes in each request, yet never two of one child's.
    url, tables = outbox_url
    subscriber = Subscriber(name="meetings-api", url=receiver.url, types=["risk.level_changed"])
    database = Database(url)
    emit_interleaved(database, tables, subscriber)

    delivered = 0
    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(8) as senders:
        while pending_count(database, tables):
            delivered += relay_once(database, tables, client, SECRET, "test", senders=senders)
    database.dispose()

    assert delivered == CHILDREN * EVENTS_PER_CHILD
    assert Counter(Counter(event["id"] for event in receiver.arrived).values()) == {1: delivered}
    assert out_of_order(receiver) == {}
    # A pass's heads of lanes in one request (50 lanes a pass), never two of one child's.
    assert max(len(events) for events in receiver.requests) == 50
    assert all(len({e["subject"] for e in events}) == len(events) for events in receiver.requests)


def test_a_relay_thread_drains_a_backlog_pass_after_pass_without_waiting_between_them(outbox_url, receiver):
    # Six full passes' worth (300 deliveries), and a relay that otherwise looks every 60 s.
    url, tables = outbox_url
    subscriber = Subscriber(name="meetings-api", url=receiver.url, types=["risk.level_changed"])
    database = Database(url)
    emit_interleaved(database, tables, subscriber)

    with relay_thread(database, tables, SECRET, "test", interval=60):
        eventually(lambda: pending_count(database, tables) == 0, "the backlog delivered in one cycle")
    database.dispose()

    assert len(receiver.arrived) == CHILDREN * EVENTS_PER_CHILD
    assert out_of_order(receiver) == {}
