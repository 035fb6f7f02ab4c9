"""Domain events between services and to partners: a transactional outbox, a relay
that delivers CloudEvents 1.0 (structured JSON) over HTTP at least once, in order per
subject (child), with exponential back-off and a dead-letter state, and an inbox that
makes consumers idempotent.

Deliveries are signed the Standard Webhooks way: ``webhook-id``, ``webhook-timestamp``
and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

import httpx
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Gauge
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    Update,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, ReturningInsert
from starlette.concurrency import run_in_threadpool

from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.background import Pulse, repeating
from safeguarding_kit.cloudevents import CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, CloudEvent, EventData
from safeguarding_kit.db import Database, UtcDateTime, unnested, utc_now
from safeguarding_kit.keep_alive import pool_limits
from safeguarding_kit.new_rows import (
    Shape,
    adopt,
    holding_new_rows,
    insert_ctes,
    insert_new,
    insert_new_then_read,
    insert_rows_unless_present,
    parameters_of,
    rows_of,
    shapes_of,
)
from safeguarding_kit.outbound_urls import UnsafeUrl, check_outbound_url
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.problems import Problem, Unauthenticated

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
MAX_ATTEMPTS = 8
SIGNATURE_TOLERANCE_SECONDS = 300
# The signature headers of every delivery (Standard Webhooks).
WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"

EVENTS = Counter("events_total", "Events emitted and delivered", ["service", "outcome"])
DELIVERIES = Gauge(
    "outbox_deliveries", "Deliveries waiting (pending) or given up (dead), by service", ["service", "status"]
)


class Subscriber(BaseModel):
    """Where a service's events of some types are delivered."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    url: HttpUrl
    types: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class EventTables:
    events: Table
    deliveries: Table
    inbox: Table
    webhook_endpoints: Table


def event_tables(metadata: MetaData) -> EventTables:
    """The outbox (events and their deliveries) and the inbox, on the service's metadata."""
    events = Table(
        "outbox_events",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("source", String(100), nullable=False),
        Column("subject", String(64), nullable=False, index=True),
        Column("data", JSON, nullable=False),
        Column("occurred_at", UtcDateTime, nullable=False),
    )
    deliveries = Table(
        "outbox_deliveries",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_seq", Integer, nullable=False, index=True),
        Column("subscriber", String(63), nullable=False),
        Column("url", String(500), nullable=False),
        Column("subject", String(64), nullable=False),
        Column("status", String(10), nullable=False, index=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UtcDateTime, nullable=False, index=True),
        Column("last_error", Text),
        Column("delivered_at", UtcDateTime),
        Column("endpoint_id", Uuid, index=True),  # a partner's webhook; null for internal subscribers
    )
    # The relay's poll (:func:`due_deliveries`) reads only pending deliveries, oldest first,
    # and asks of each whether its lane has an earlier one pending: both through indexes of
    # the pending rows alone, which stay small however many deliveries are kept.
    pending = deliveries.c.status == PENDING
    Index(
        "ix_outbox_deliveries_pending",
        deliveries.c.event_seq,
        postgresql_where=pending,
        sqlite_where=pending,
    )
    Index(
        "ix_outbox_deliveries_pending_lanes",
        deliveries.c.subscriber,
        deliveries.c.subject,
        deliveries.c.event_seq,
        postgresql_where=pending,
        sqlite_where=pending,
    )
    inbox = Table(
        "inbox_events",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("type", String(100), nullable=False),
        Column("received_at", UtcDateTime, nullable=False),
    )
    webhook_endpoints = Table(
        "webhook_endpoints",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("agency", String(100), nullable=False, index=True),
        Column("agency_type", String(30), nullable=False),
        Column("url", String(500), nullable=False),
        Column("event_types", JSON, nullable=False),
        Column("secret", String(200), nullable=False),
        Column("active", Boolean, nullable=False, default=True),
        Column("created_by", String(200), nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
    )
    return EventTables(events, deliveries, inbox, webhook_endpoints)


@dataclass(frozen=True)
class _EventStatements:
    insert_event: ReturningInsert[tuple[int]]
    # Several events in one statement, their seqs given in the order the events were (on
    # PostgreSQL: INSERT ... SELECT ... ORDER BY, which assigns the seqs in that order too;
    # SQLite inserts them one by one), so each child's events keep their order.
    insert_events_in_order: ReturningInsert[tuple[int]]
    insert_deliveries: Insert
    record_outcome: Update


@functools.cache
def _statements(tables: EventTables) -> _EventStatements:
    """The outbox's and the inbox's writes, built once per service: each event and each
    relay pass gives only their values (a statement built per call is keyed and looked up
    afresh each time)."""
    d = tables.deliveries
    return _EventStatements(
        insert_event=insert(tables.events).returning(tables.events.c.seq),
        insert_events_in_order=insert(tables.events).returning(
            tables.events.c.seq, sort_by_parameter_order=True
        ),
        insert_deliveries=insert(d),
        # Every outcome sets every column it may change (see _recorded), so one pass's outcomes
        # go in one executemany.
        record_outcome=update(d)
        .where(d.c.id == bindparam("b_delivery_id"))
        .values({column: bindparam(column) for column in OUTCOME_COLUMNS}),
    )


PartnerAudience = Callable[[Session, Principal, str], bool]
"""Whether a partner agency (as a case-working principal) may see the record the event is
about (its subject, a child's id): a service's own access rules, asked at emit time."""


def webhook_principal(endpoint: Any, agreement: Agreement | None) -> Principal:
    """The partner agency behind a webhook endpoint, as the access rules see a case worker
    of it: with the capacities the agreement grants the agency now (none once it leaves)."""
    return Principal(
        sub=f"webhook:{endpoint.id}",
        agency=endpoint.agency,
        agency_type=AgencyType(endpoint.agency_type),
        roles=frozenset({Role.practitioner}),
        capacities=agreement.capacities_of(endpoint.agency) if agreement is not None else frozenset(),
    )


_ENDPOINTS = "safeguarding_kit.events.active_endpoints"


@functools.cache
def active_endpoints_query(tables: EventTables) -> Select[Any]:
    """The active partner webhook endpoints (built once per service)."""
    w = tables.webhook_endpoints
    return select(w).where(w.c.active.is_(True))


def _active_endpoints(session: Session, tables: EventTables) -> list[Any]:
    """The active partner webhook endpoints, read once per transaction (a create that emits
    several events asks once; one that read them with its own statement, none)."""
    transaction = session.get_transaction()
    cached = session.info.get(_ENDPOINTS)
    if cached is not None and cached[0] is transaction:
        return cast(list[Any], cached[1])
    endpoints = list(session.execute(active_endpoints_query(tables)).all())
    keep_active_endpoints(session, endpoints)
    return endpoints


def keep_active_endpoints(session: Session, endpoints: list[Any]) -> None:
    """The active endpoints (:func:`active_endpoints_query`'s rows), read in this transaction
    with another statement: the next emit in it uses them rather than asking again."""
    session.info[_ENDPOINTS] = (session.get_transaction(), endpoints)


def forget_active_endpoints(session: Session) -> None:
    """Read the endpoints afresh at the next emit (one was added or removed)."""
    session.info.pop(_ENDPOINTS, None)


@dataclass(frozen=True)
class NewEvent:
    """An event to record: its type, the record it is about (a child's id) and its data."""

    type: str
    subject: str
    data: Mapping[str, Any]


def emit(
    session: Session,
    tables: EventTables,
    subscribers: list[Subscriber],
    *,
    source: str,
    type: str,
    subject: str,
    data: Mapping[str, Any],
    partner_audience: PartnerAudience | None = None,
    agreement: Agreement | None = None,
    occurred_at: datetime | None = None,
) -> uuid.UUID:
    """Record an event, and one delivery per subscriber of its type, in the caller's
    transaction: the event exists exactly when the change does. Ids and types only.

    Partner webhooks subscribed to the type get a delivery only when ``partner_audience``
    says their agency may see the subject; without it, partners get nothing."""
    (event_id,) = emit_all(
        session,
        tables,
        subscribers,
        [NewEvent(type, subject, data)],
        source=source,
        partner_audience=partner_audience,
        agreement=agreement,
        occurred_at=occurred_at,
    )
    return event_id


def emit_all(
    session: Session,
    tables: EventTables,
    subscribers: list[Subscriber],
    events: list[NewEvent],
    *,
    source: str,
    partner_audience: PartnerAudience | None = None,
    agreement: Agreement | None = None,
    occurred_at: datetime | None = None,
    ids: Sequence[uuid.UUID] | None = None,
    new_rows: Sequence[Any] = (),
) -> list[uuid.UUID]:
    """:func:`emit` for several events of one change, in order (with ``ids`` when the caller
    chose them): on PostgreSQL one statement records the events and their deliveries
    (:func:`_events_with_deliveries`); on SQLite one the events and one their deliveries.
    ``new_rows``, new ORM instances (a read model's, kept from these events), are written
    as :func:`~safeguarding_kit.new_rows.insert_new` writes them: on PostgreSQL in the same
    statement."""
    if not events:
        return []
    now = occurred_at or utc_now()
    ids = list(ids) if ids is not None else [uuid.uuid4() for _ in events]
    rows = [
        {
            "id": event_id,
            "type": event.type,
            "source": source,
            "subject": event.subject,
            "data": dict(event.data),
            "occurred_at": now,
        }
        for event_id, event in zip(ids, events, strict=True)
    ]
    # Each event's deliveries, worked out before it has a seq (the partners' need to know
    # is asked here, in Python), then written with the events.
    deliveries = [
        (event_id, delivery)
        for event_id, event in zip(ids, events, strict=True)
        for delivery in _deliveries(session, tables, subscribers, event, now, partner_audience, agreement)
    ]
    if session.get_bind().dialect.name == "postgresql":
        written_with = rows_of(new_rows)
        session.execute(
            _events_with_deliveries(tables, shapes_of(written_with)),
            {**_as_arrays(rows, deliveries), **parameters_of(written_with)},
        )
        adopt(session, new_rows)
        return ids
    # SQLite has no INSERT in a WITH: the events (their seqs back), then their deliveries.
    # Values go as execution parameters to statements built once (_statements), so no
    # statement is built, keyed or compiled per event.
    statements = _statements(tables)
    seqs: list[Any] = (
        [session.scalar(statements.insert_event, rows[0])]
        if len(rows) == 1
        else list(session.scalars(statements.insert_events_in_order, rows))
    )
    seq_of = dict(zip(ids, seqs, strict=True))
    if deliveries:
        session.execute(
            statements.insert_deliveries,
            [{**delivery, "event_seq": seq_of[event_id]} for event_id, delivery in deliveries],
        )
    if new_rows:
        insert_new(session, new_rows)
    return ids


# The columns an event's row and a delivery's row are given in (the rest follow from them).
_EVENT_COLUMNS = ("id", "type", "source", "subject", "data", "occurred_at")
_DELIVERY_COLUMNS = ("subscriber", "url", "endpoint_id")


@functools.lru_cache(maxsize=64)
def _events_with_deliveries(tables: EventTables, new_rows: tuple[Shape, ...] = ()) -> Insert:
    """PostgreSQL: a change's events and their deliveries in one statement, from one array
    per column. The events are inserted in the order given (``INSERT ... SELECT ... ORDER
    BY`` assigns their seqs in that order, so each child's events keep it) as a
    data-modifying WITH; each delivery (``d_event_id`` naming its event) takes its event's
    seq, subject and time from what that insert returns. One row of each of the ``new_rows``
    shapes is inserted with them (each a WITH: ``new_rows.insert_ctes``). One round trip
    where the events and then their deliveries took two; built once for each set of shapes,
    so compiled once and prepared once."""
    e, d = tables.events, tables.deliveries
    given = select(
        *(unnested(f"e_{name}", e.c[name].type).label(name) for name in _EVENT_COLUMNS if name != "data"),
        # JSON travels as its text, cast back on the server: arrays of JSON are not bound alike
        # by every driver.
        sql_cast(unnested("e_data", Text()), JSON).label("data"),
        unnested("e_n", Integer()).label("n"),
    ).subquery("given")
    new_events = (
        insert(e)
        .from_select(
            list(_EVENT_COLUMNS), select(*(given.c[name] for name in _EVENT_COLUMNS)).order_by(given.c.n)
        )
        .returning(e.c.seq, e.c.id, e.c.subject, e.c.occurred_at)
        .cte("new_events")
    )
    planned = select(
        unnested("d_event_id", Uuid()).label("event_id"),
        *(unnested(f"d_{name}", d.c[name].type).label(name) for name in _DELIVERY_COLUMNS),
    ).subquery("planned")
    rows = select(
        new_events.c.seq,
        new_events.c.subject,
        literal(PENDING, String()),
        literal(0, Integer()),
        new_events.c.occurred_at,
        *(planned.c[name] for name in _DELIVERY_COLUMNS),
    ).join_from(planned, new_events, planned.c.event_id == new_events.c.id)
    return (
        insert(d)
        .from_select(
            ["event_seq", "subject", "status", "attempts", "next_attempt_at", *_DELIVERY_COLUMNS], rows
        )
        .add_cte(new_events)
        .add_cte(*insert_ctes(new_rows))
    )


def _as_arrays(
    rows: list[dict[str, Any]], deliveries: list[tuple[uuid.UUID, dict[str, Any]]]
) -> dict[str, Any]:
    """:func:`_events_with_deliveries`'s parameters: the events' and deliveries' columns as arrays."""
    arrays: dict[str, Any] = {
        f"e_{name}": [json.dumps(row[name]) if name == "data" else row[name] for row in rows]
        for name in _EVENT_COLUMNS
    }
    arrays["e_n"] = list(range(len(rows)))
    arrays["d_event_id"] = [event_id for event_id, _ in deliveries]
    arrays |= {f"d_{name}": [delivery[name] for _, delivery in deliveries] for name in _DELIVERY_COLUMNS}
    return arrays


def _deliveries(
    session: Session,
    tables: EventTables,
    subscribers: list[Subscriber],
    event: NewEvent,
    now: datetime,
    partner_audience: PartnerAudience | None,
    agreement: Agreement | None,
) -> list[dict[str, Any]]:
    """The event's deliveries: one per subscriber of its type and, when ``partner_audience``
    is given, one per partner webhook subscribed to it whose agency may see its subject
    (without the event's seq, which the event has once inserted)."""
    lane = {
        "subject": event.subject,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
    }
    deliveries = [
        {**lane, "subscriber": subscriber.name, "url": str(subscriber.url), "endpoint_id": None}
        for subscriber in subscribers
        if event.type in subscriber.types
    ]
    if partner_audience is not None:
        deliveries += [
            # Each endpoint its own lane: a child's events reach it in order.
            {**lane, "subscriber": f"webhook-{endpoint.id}", "url": endpoint.url, "endpoint_id": endpoint.id}
            for endpoint in _active_endpoints(session, tables)
            if event.type in endpoint.event_types
            and partner_audience(session, webhook_principal(endpoint, agreement), event.subject)
        ]
    return deliveries


def cloud_event(row: Any) -> dict[str, Any]:
    """The event as CloudEvents 1.0 structured JSON (the :class:`CloudEvent` envelope)."""
    return CloudEvent(
        specversion="1.0",
        id=row.event_id,
        source=row.source,
        type=row.type,
        subject=row.subject,
        time=row.occurred_at,
        datacontenttype="application/json",
        data=row.data,
    ).model_dump(mode="json")


def delivery_body(event: Mapping[str, Any] | list[Mapping[str, Any]]) -> bytes:
    """The bytes a delivery carries (and its signature covers): compact JSON of one event,
    or of a batch's list of them."""
    return json.dumps(event, separators=(",", ":")).encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None) -> bool:
    """True when the delivery was signed with ``secret`` within the last five minutes."""
    message_id, stamp, signatures = (
        headers.get(h, "") for h in (WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE)
    )
    if not (message_id and stamp.isdigit() and signatures):
        return False
    if abs((now or time.time()) - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, int(stamp), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures.split())


@dataclass(frozen=True)
class RelayPolicy:
    """How hard the relay tries: ``max_attempts`` tries, waiting ``base``, 2 x ``base``,
    4 x ``base``... (at most ``cap``) between them, then the delivery is dead (see
    :func:`gives_up` for the platform's own services)."""

    max_attempts: int = MAX_ATTEMPTS
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 300.0
    private_addresses_allowed: bool = False
    # Requests sent side by side by a relay thread (see relay_once).
    concurrent_sends: int = 8


def backoff(attempts: int, policy: RelayPolicy = RelayPolicy()) -> timedelta:
    """Wait before the next try: 1 s, 2 s, 4 s... up to 5 minutes (with the default policy)."""
    # The exponent is bounded: a delivery to a service that is down for days tries on and on,
    # and 2.0 ** 1024 is past a float.
    seconds = policy.backoff_base_seconds * 2.0 ** min(max(attempts - 1, 0), 40)
    return timedelta(seconds=min(seconds, policy.backoff_cap_seconds))


# What a relay pass writes on a delivery it tried.
OUTCOME_COLUMNS = ("status", "attempts", "last_error", "delivered_at", "next_attempt_at")
# The most events one request to a platform service carries (a relay pass reads fewer).
MAX_BATCH = 100
# The most due deliveries one pass of the relay reads, sends and records.
DUE_BATCH = 50
# Passes a relay thread makes in a row while each finds a full batch, before it looks
# whether the process is stopping: a backlog drains without a pause between passes.
PASSES_IN_A_ROW = 20


def due_deliveries(session: Session, tables: EventTables, now: datetime, limit: int = DUE_BATCH) -> list[Any]:
    """The first pending delivery of each lane (one subscriber, one subject: a child's
    events to one receiver) when it is due, oldest event first, at most ``limit``.

    A lane's later events are not picked while an earlier one is pending, whoever holds
    it, so a child's events arrive in order. On PostgreSQL the rows are locked
    (``FOR UPDATE SKIP LOCKED``): several relays never send the same delivery at once, and
    a lane whose first delivery another relay is sending is passed over whole. SQLite has
    no row locks (the query takes none there): one relay per database."""
    d, e, w = tables.deliveries, tables.events, tables.webhook_endpoints
    # The head of each lane among all pending deliveries, not within a page of them: a relay
    # that cannot see (or lock) a lane's earlier delivery must still not send a later one.
    # Asked per candidate through the pending-lanes index, oldest first, so a poll reads
    # about ``limit`` lanes' heads rather than ranking every pending delivery. A correlated
    # subquery, not NOT EXISTS: the planner may turn NOT EXISTS into an anti join that scans
    # every pending row for each candidate when the table's statistics lag behind a burst.
    # The status is written into the statement, not bound: a prepared statement's generic
    # plan can use a partial index only when its condition is in the text.
    pending: ColumnElement[str] = literal_column(f"'{PENDING}'")
    earlier = d.alias("earlier")
    lane_head = (
        select(func.min(earlier.c.event_seq))
        .where(
            earlier.c.status == pending,
            earlier.c.subscriber == d.c.subscriber,
            earlier.c.subject == d.c.subject,
        )
        .scalar_subquery()
    )
    heads_only = d.c.event_seq == lane_head
    return list(
        session.execute(
            select(
                d.c.id.label("delivery_id"),
                d.c.endpoint_id,
                w.c.secret.label("endpoint_secret"),
                w.c.active.label("endpoint_active"),
                d.c.subscriber,
                d.c.url,
                d.c.subject,
                d.c.attempts,
                d.c.next_attempt_at,
                e.c.id.label("event_id"),
                e.c.source,
                e.c.type,
                e.c.occurred_at,
                e.c.data,
            )
            .join(e, e.c.seq == d.c.event_seq)
            .outerjoin(w, w.c.id == d.c.endpoint_id)
            # Status and due time are checked again on the locked row (PostgreSQL re-reads a row
            # another relay changed meanwhile), so a delivery just sent or put back is left alone.
            .where(d.c.status == pending, d.c.next_attempt_at <= now, heads_only)
            .order_by(d.c.event_seq)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)
        ).all()
    )


# Answers a proxy or a server gives while it is down or starting: the receiver was not reached.
UNREACHABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Undelivered:
    """Why a delivery failed, and whether its receiver was reached at all (a connection that
    failed or timed out, or a 502/503/504 answer) or answered and refused it."""

    reason: str
    receiver_unreachable: bool


def deliver(
    client: httpx.Client, secret: str, row: Any, *, private_addresses_allowed: bool = True
) -> Undelivered | None:
    """Send one delivery; None on success, else why it failed. A partner's webhook is
    signed with its own secret and only sent to a public address: the one its host was
    checked at, connected to as such (the name is not resolved again, so a name that
    answers a public address to the check and a private one to the connection reaches
    nothing), with the host name in the ``Host`` header and for TLS (SNI and the
    certificate's check). The platform's own services (no endpoint) are sent to as named."""
    url = httpx.URL(row.url)
    pinned: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if row.endpoint_id is not None:
        secret = row.endpoint_secret
        try:
            address = check_outbound_url(row.url, private_addresses_allowed=private_addresses_allowed)
        except UnsafeUrl as exc:
            return Undelivered(f"refused: {exc}", receiver_unreachable=False)
        if address is not None:
            # The first of the host's addresses, without trying the others. Connection: close,
            # as a connection left in the client's pool is found again by address alone: a
            # later delivery to another name at that address would go over this one's TLS.
            pinned = {"host": url.netloc.decode("ascii"), "connection": "close"}
            extensions = {"sni_hostname": url.raw_host.decode("ascii")}
            url = url.copy_with(host=str(address))
    body = delivery_body(cloud_event(row))
    headers = {**signed_headers(secret, f"{row.event_id}:{row.subscriber}", body, CLOUDEVENTS_JSON), **pinned}
    try:
        response = client.post(url, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return _unsent(exc)
    if 200 <= response.status_code < 300:
        return None
    return _refused(response.status_code)


def signed_headers(secret: str, message_id: str, body: bytes, content_type: str) -> dict[str, str]:
    """The headers of a delivery whose body is ``body``, signed the Standard Webhooks way."""
    stamp = int(time.time())
    return {
        "content-type": content_type,
        WEBHOOK_ID: message_id,
        WEBHOOK_TIMESTAMP: str(stamp),
        WEBHOOK_SIGNATURE: sign(secret, message_id, stamp, body),
    }


def _unsent(exc: httpx.HTTPError) -> Undelivered:
    """A delivery whose request failed: the receiver unreached if it never answered."""
    return Undelivered(type(exc).__name__, receiver_unreachable=isinstance(exc, httpx.TransportError))


def _refused(status: int) -> Undelivered:
    """A delivery the receiver answered ``status`` (a 502, 503 or 504: not reached)."""
    return Undelivered(f"HTTP {status}", receiver_unreachable=status in UNREACHABLE_STATUSES)


def gives_up(row: Any, failure: Undelivered, attempts: int, policy: RelayPolicy) -> bool:
    """Whether a failed delivery is dead-lettered after this try. A partner's webhook is given
    up after ``policy.max_attempts`` tries, whatever failed. A delivery to one of the
    platform's own services is given up only when that service answered and refused it
    ``max_attempts`` times: while it cannot be reached (stopped, restarting, its network
    down), the delivery waits at the capped back-off for as long as the outage lasts, so the
    service catches up when it is back and no platform event is lost to an outage."""
    if attempts < policy.max_attempts:
        return False
    return row.endpoint_id is not None or not failure.receiver_unreachable


def deliver_batch(client: httpx.Client, secret: str, rows: list[Any]) -> list[Undelivered | None]:
    """Send deliveries of several lanes to one of the platform's own services in one request
    (CloudEvents batch mode: a JSON array, signed as one body); for each, None if it was
    applied, else why not. The receiver applies them in the order given and answers 200
    with each one's status (``events_router``); one alone goes as a single event. A
    receiver that takes one event at a time (an older release during an upgrade, which
    answers a batch 400) gets them one by one instead: nothing is refused for its form."""
    if len(rows) == 1:
        return [deliver(client, secret, rows[0])]
    body = delivery_body([cloud_event(row) for row in rows])
    message_id = f"batch:{uuid.uuid4()}:{rows[0].subscriber}"
    try:
        response = client.post(
            rows[0].url,
            content=body,
            headers=signed_headers(secret, message_id, body, CLOUDEVENTS_BATCH_JSON),
        )
    except httpx.HTTPError as exc:
        return [_unsent(exc)] * len(rows)
    if response.status_code == 400:
        return [deliver(client, secret, row) for row in rows]
    if response.status_code != 200:
        return [_refused(response.status_code)] * len(rows)
    statuses = _batch_statuses(response, rows)
    if statuses is None:
        return [Undelivered("the batch's answer does not account for each event", False)] * len(rows)
    return [None if 200 <= status < 300 else _refused(status) for status in statuses]


def _batch_statuses(response: httpx.Response, rows: list[Any]) -> list[int] | None:
    """Each event's status in a batch's answer, in the order sent; None unless the answer
    names every event sent, in that order, with a status."""
    try:
        results = response.json()["results"]
        ids = [str(result["id"]) for result in results]
        statuses = [int(result["status"]) for result in results]
    except (ValueError, KeyError, TypeError):
        return None
    return statuses if ids == [str(row.event_id) for row in rows] else None


def _as_it_was(row: Any) -> dict[str, Any]:
    """The columns of ``OUTCOME_COLUMNS`` an outcome may leave as they were: each outcome
    sets them all, so that a pass's outcomes are written by one statement."""
    return {"attempts": row.attempts, "next_attempt_at": row.next_attempt_at, "delivered_at": None}


def _recorded(
    row: Any, failure: Undelivered | None, service: str, policy: RelayPolicy, now: datetime
) -> dict[str, Any]:
    """What to write on a delivery's row after it was tried."""
    unchanged = _as_it_was(row)
    attempts = row.attempts + 1
    if failure is None:
        EVENTS.labels(service, "delivered").inc()
        return {
            **unchanged,
            "status": DELIVERED,
            "delivered_at": now,
            "attempts": attempts,
            "last_error": None,
        }
    dead = gives_up(row, failure, attempts, policy)
    EVENTS.labels(service, "dead" if dead else "failed").inc()
    return {
        **unchanged,
        "attempts": attempts,
        "last_error": failure.reason,
        "status": DEAD if dead else PENDING,
        "next_attempt_at": now + backoff(attempts, policy),
    }


def _outcomes(
    client: httpx.Client, secret: str, service: str, policy: RelayPolicy, rows: list[Any], now: datetime
) -> list[dict[str, Any]]:
    """Send one batch of due deliveries (see :func:`_batches`); what to write on each row."""
    if rows[0].endpoint_id is None:
        failures = deliver_batch(client, secret, rows)
    else:
        [row] = rows
        if not row.endpoint_active:
            return [{**_as_it_was(row), "status": DEAD, "last_error": "the webhook endpoint was removed"}]
        failures = [deliver(client, secret, row, private_addresses_allowed=policy.private_addresses_allowed)]
    return [
        _recorded(row, failure, service, policy, now) for row, failure in zip(rows, failures, strict=True)
    ]


def _batches(due: list[Any]) -> list[list[Any]]:
    """The due deliveries as they are sent: those to each of the platform's own services
    together (at most ``MAX_BATCH`` a request), each to a partner's webhook alone (it takes
    one signed event per request)."""
    own: dict[tuple[str, str], list[Any]] = {}
    batches: list[list[Any]] = []
    for row in due:
        if row.endpoint_id is None:
            own.setdefault((row.subscriber, row.url), []).append(row)
        else:
            batches.append([row])
    for rows in own.values():
        batches += [rows[start : start + MAX_BATCH] for start in range(0, len(rows), MAX_BATCH)]
    return batches


def relay_once(
    database: Database,
    tables: EventTables,
    client: httpx.Client,
    secret: str,
    service: str,
    policy: RelayPolicy = RelayPolicy(),
    *,
    senders: Executor | None = None,
) -> int:
    """Deliver what is due; returns how many were delivered.

    Deliveries to each of the platform's own services go together, one request a pass
    (:func:`deliver_batch`); each to a partner's webhook goes alone. With ``senders`` (a
    pool of threads) these requests are sent side by side: each due delivery is the first
    pending one of its own lane, so no child's events overtake one another, and a slow
    receiver holds up its own request, not the pass.

    The outcomes are written after every send of the cycle, not between them: on SQLite
    the first write takes the database's one write lock, which must not be held while the
    relay waits on a partner's server (every other write of the service would wait too).
    On PostgreSQL the rows stay locked (``SKIP LOCKED``) from the select to the commit."""
    with database.sessions() as session:
        now = utc_now()
        batches = _batches(due_deliveries(session, tables, now))

        def send(rows: list[Any]) -> list[dict[str, Any]]:
            return _outcomes(client, secret, service, policy, rows, now)

        sent = list(senders.map(send, batches) if senders is not None else map(send, batches))
        outcomes = [
            {"b_delivery_id": row.delivery_id, **values}
            for rows, values_of_rows in zip(batches, sent, strict=True)
            for row, values in zip(rows, values_of_rows, strict=True)
        ]
        if outcomes:
            session.execute(_statements(tables).record_outcome, outcomes)
        session.commit()
    return sum(1 for values in outcomes if values["status"] == DELIVERED)


def count_by_status(database: Database, tables: EventTables, service: str) -> None:
    """Set the deliveries gauge: how many are pending and dead now (delivered ones are counted
    as they go, by ``events_total``)."""
    d = tables.deliveries
    with database.sessions() as session:
        counts: dict[str, int] = dict(
            session.execute(
                select(d.c.status, func.count()).where(d.c.status.in_([PENDING, DEAD])).group_by(d.c.status)
            ).all()
        )
    for status in (PENDING, DEAD):
        DELIVERIES.labels(service, status).set(counts.get(status, 0))


@contextmanager
def relay_thread(
    database: Database,
    tables: EventTables,
    secret: str,
    service: str,
    *,
    policy: RelayPolicy = RelayPolicy(),
    interval: float = 0.3,
    timeout: float = 5.0,
    gauge_every: float = 5.0,
) -> Iterator[Pulse]:
    """A background thread delivering the outbox while the process runs: every
    ``interval`` seconds, and pass after pass while each delivers a full batch (a backlog
    after a burst or an outage), sending up to ``policy.concurrent_sends`` at once. The
    block gets the loop's :class:`~safeguarding_kit.background.Pulse`."""
    counted_at = 0.0

    def cycle() -> None:
        nonlocal counted_at
        for _ in range(PASSES_IN_A_ROW):
            delivered = relay_once(database, tables, client, secret, service, policy, senders=senders)
            if delivered < DUE_BATCH:
                break
        if time.monotonic() - counted_at >= gauge_every:
            count_by_status(database, tables, service)
            counted_at = time.monotonic()

    with (
        httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=pool_limits(max_idle=policy.concurrent_sends),
        ) as client,
        ThreadPoolExecutor(policy.concurrent_sends, thread_name_prefix=f"{service}-relay-send") as senders,
        repeating(f"{service}-outbox-relay", cycle, interval, at_start=True) as pulse,
    ):
        yield pulse


def first_time(session: Session, tables: EventTables, event_id: uuid.UUID, type: str) -> bool:
    """Record the event in the inbox; False when it was already processed (a redelivery).
    Call first in the consumer's transaction, before applying the event: a redelivery
    leaves nothing in it. The inbox's one write, as for a batch (:func:`_remember_first_times`)."""
    return bool(_remember_first_times(session, tables, [(event_id, type)]))


def _remember_first_times(
    session: Session, tables: EventTables, events: list[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Write into the inbox, in one statement and before any is applied, those of the
    events (ids with their types) it has not had, and return their ids: the insert itself
    tells which are new (``ON CONFLICT DO NOTHING``), where asking first read the inbox
    once more, by a plan that a table's missing statistics could make a scan of it all.
    An event another replica is applying meanwhile is waited for, then passed over once
    that replica has committed it. The ids go in sorted, so replicas given overlapping
    batches wait on each other in one order and never deadlock."""
    now = utc_now()
    rows = [{"id": event_id, "type": type, "received_at": now} for event_id, type in sorted(events)]
    return insert_rows_unless_present(session, tables.inbox, rows)


EventHandler = Callable[[Session, dict[str, Any]], None]


@dataclass(frozen=True)
class ReadingAhead:
    """An event handler that, when a batch of events is applied together, first reads what
    it will need for all the batch's events of its type in one statement (``read_ahead``,
    given them in order, before any is applied), so that applying each asks nothing more.
    Alone, an event is applied as by a plain handler."""

    apply: EventHandler
    read_ahead: Callable[[Session, list[dict[str, Any]]], None]

    def __call__(self, session: Session, event: dict[str, Any]) -> None:
        self.apply(session, event)


def _read_ahead(session: Session, handlers: Mapping[str, EventHandler], events: list[dict[str, Any]]) -> None:
    """Let each reading-ahead handler read for the events of its type, in the batch's order."""
    for event_type, handler in handlers.items():
        if isinstance(handler, ReadingAhead):
            of_type = [event for event in events if event["type"] == event_type]
            if of_type:
                handler.read_ahead(session, of_type)


def combined_handlers(*handlers: Mapping[str, EventHandler]) -> dict[str, EventHandler]:
    """One handler per event type that applies, in turn and in one transaction, every
    handler the mappings give for it (a service keeping two projections of one event)."""
    types = {event_type for mapping in handlers for event_type in mapping}

    def all_of(event_type: str) -> EventHandler:
        chosen = [mapping[event_type] for mapping in handlers if event_type in mapping]
        if len(chosen) == 1:
            return chosen[0]

        def apply(session: Session, event: dict[str, Any]) -> None:
            for handler in chosen:
                handler(session, event)

        return apply

    return {event_type: all_of(event_type) for event_type in sorted(types)}


class NotACloudEvent(Problem):
    """What was posted to the internal events endpoint is not a CloudEvents 1.0 JSON event."""

    status, slug, title = 400, "not-a-cloudevent", "Not a CloudEvents 1.0 event"


class EventDataInvalid(Problem):
    """A signed event whose data is not what an event of its type carries; it was not applied."""

    status, slug, title = 422, "event-data-invalid", "The event's data cannot be applied"


class CloudEventIn(BaseModel):
    """The CloudEvents 1.0 structured-mode envelope a consumer accepts (extensions allowed)."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(pattern=r"^1\.0$")
    id: uuid.UUID
    source: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1, max_length=100)
    subject: str | None = Field(None, max_length=64)
    time: AwareDatetime | None = None
    data: dict[str, Any] | None = None


def events_router(
    tables: EventTables, secret: str, handlers: Mapping[str, EventHandler], *, path: str = "/internal/events"
) -> APIRouter:
    """The endpoint other services deliver to: signature checked, each event applied
    once (inbox), in the same transaction as its effect. Not routed by the gateway.
    A signed body that is not a CloudEvents 1.0 event is 400; an event whose data its
    handler cannot use is 422 (nothing applied, the inbox untouched): a 4xx, never a 500.

    A batch (``application/cloudevents-batch+json``: a JSON array of up to ``MAX_BATCH``
    events, as the relay sends them) is applied in its order and answered 200 with each
    one's status as it would have been answered alone:
    ``{"results": [{"id": ..., "status": 204}, ...]}``. Its events are applied together, in
    one transaction (``_apply_together``); should one of them be refused or fail, they are
    applied again one by one, each in its own transaction (``_status_alone``)."""
    router = APIRouter(include_in_schema=False)

    @router.post(path, status_code=204)
    async def receive(request: Request) -> Response:
        body = await request.body()
        if not verify_signature(secret, request.headers, body):
            raise Unauthenticated("The event's signature does not verify.")
        database: Database = request.app.state.database
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == CLOUDEVENTS_BATCH_JSON:
            events = _batch_of(body)
            results = await run_in_threadpool(_apply_batch, database, tables, handlers, events)
            return JSONResponse({"results": results})
        event = _event_of(body)
        await run_in_threadpool(_apply_once, database, tables, handlers, event)
        return Response(status_code=204)

    return router


def _event_of(body: bytes | Any) -> dict[str, Any]:
    """The CloudEvent a body (or a batch's item) is; 400 if it is not one."""
    try:
        event = json.loads(body) if isinstance(body, bytes) else body
        CloudEventIn.model_validate(event)
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise NotACloudEvent(
            "Not a CloudEvents 1.0 JSON event (specversion, id, source and type are required)."
        ) from exc
    return cast(dict[str, Any], event)


def _batch_of(body: bytes) -> list[Any]:
    """The items of a batch body; 400 unless it is a JSON array of at most ``MAX_BATCH``."""
    try:
        events = json.loads(body)
    except ValueError:
        events = None
    if not isinstance(events, list) or len(events) > MAX_BATCH:
        raise NotACloudEvent(f"A CloudEvents batch is a JSON array of at most {MAX_BATCH} events.")
    return events


def _apply_once(
    database: Database, tables: EventTables, handlers: Mapping[str, EventHandler], event: dict[str, Any]
) -> None:
    """Apply a checked event in a transaction of its own, unless the inbox has had it."""
    event_id, event_type = uuid.UUID(str(event["id"])), str(event["type"])
    handler = handlers.get(event_type)
    with database.sessions() as session:
        if first_time(session, tables, event_id, event_type) and handler is not None:
            try:
                handler(session, event)
            except (KeyError, TypeError, ValueError) as exc:
                # What another process sent is input: a bad payload is refused, not a 500.
                raise EventDataInvalid(
                    f"The data of this {event_type} event is not what such an event carries."
                ) from exc
        session.commit()


def _apply_batch(
    database: Database, tables: EventTables, handlers: Mapping[str, EventHandler], items: list[Any]
) -> list[dict[str, Any]]:
    """Each of a batch's items applied once, in order, with the status it would have been
    answered alone: all together when every item is an event and each applies (the common
    case), else one by one."""
    try:
        events = [_event_of(item) for item in items]
    except NotACloudEvent:
        events = []
    if events and _apply_together(database, tables, handlers, events):
        return [{"id": event["id"], "status": 204} for event in events]
    return [_status_alone(database, tables, handlers, item) for item in items]


def _apply_together(
    database: Database,
    tables: EventTables,
    handlers: Mapping[str, EventHandler],
    events: list[dict[str, Any]],
) -> bool:
    """Apply checked events, in their order, in one transaction: one commit and one audit
    append for them all (a commit and an append each were most of the cost of applying an
    event). Those the inbox has had are passed over, and so is one another replica applies
    meanwhile. True when all were applied; False, with nothing applied, when any was
    refused or failed: the caller then applies them one by one, each answered as it would
    have been alone. A database that cannot be reached raises, as for one event."""
    batch: dict[uuid.UUID, dict[str, Any]] = {}
    for event in events:
        batch.setdefault(uuid.UUID(str(event["id"])), event)  # a repeat within the batch is had once
    with database.sessions() as session:
        try:
            first_times = _remember_first_times(
                session, tables, [(event_id, str(event["type"])) for event_id, event in batch.items()]
            )
            new = {event_id: event for event_id, event in batch.items() if event_id in first_times}
            _read_ahead(session, handlers, list(new.values()))
            for event in new.values():
                handler = handlers.get(str(event["type"]))
                if handler is not None:
                    handler(session, event)
                    session.flush()  # the next event's handler reads it, as after a commit
            session.commit()
        except OperationalError:
            raise
        except Exception:  # refused, a bug, a race: each is answered alone, as it would be
            session.rollback()
            log.debug("a batch's events are applied one by one", exc_info=True)
            return False
    return True


def _status_alone(
    database: Database, tables: EventTables, handlers: Mapping[str, EventHandler], item: Any
) -> dict[str, Any]:
    """A batch's item applied as if it came alone, and the status it would have been answered
    with: a handler's failure (500) is this event's alone, so one event that cannot be
    applied is retried and dead-lettered by itself, never taking other children's events
    with it. A database that cannot be reached is not an answer about the event: it fails
    the whole batch (503), whose events are all sent again (the inbox skips those already
    applied) for as long as the outage lasts."""
    named = item.get("id") if isinstance(item, dict) else None
    try:
        _apply_once(database, tables, handlers, _event_of(item))
    except Problem as refused:
        return {"id": named, "status": refused.status}
    except OperationalError:
        raise
    except Exception:
        log.exception("an event of a batch could not be applied", extra={"event_id": str(named)})
        return {"id": named, "status": 500}
    return {"id": named, "status": 204}


@dataclass(frozen=True)
class Outbox:
    """A service's outbox as its business rules see it: ``emit`` in their transaction.

    ``projections`` keep the service's own read models (a child's chronology) from its own
    events: a handler per event type, applied to each in the transaction that writes it, as
    the inbox applies another service's events (``events_router``'s handlers)."""

    tables: EventTables
    subscribers: list[Subscriber]
    source: str
    partner_audience: PartnerAudience | None = None
    agreement: Agreement | None = None
    projections: Mapping[str, EventHandler] = field(default_factory=dict)

    def emit(self, session: Session, type: str, subject: str, data: Mapping[str, Any]) -> uuid.UUID:
        (event_id,) = self.emit_all(session, [NewEvent(type, subject, data)])
        return event_id

    def emit_all(self, session: Session, events: list[NewEvent]) -> list[uuid.UUID]:
        """Record ``events`` of one change in order (:func:`emit_all`) and keep the service's
        read models from them, each in turn."""
        now = utc_now()
        ids = [uuid.uuid4() for _ in events]
        # The read models are kept first, their new rows held back to go with the events
        # (on PostgreSQL in the events' one statement), in the transaction the events go in.
        if any(event.type in self.projections for event in events):
            session.connection()
        with holding_new_rows(session) as kept:
            for event_id, event in zip(ids, events, strict=True):
                project = self.projections.get(event.type)
                if project is not None:
                    project(
                        session,
                        {
                            "specversion": "1.0",
                            "id": str(event_id),
                            "source": self.source,
                            "type": event.type,
                            "subject": event.subject,
                            "time": now.isoformat(),
                            "data": dict(event.data),
                        },
                    )
        return emit_all(
            session,
            self.tables,
            self.subscribers,
            events,
            source=self.source,
            partner_audience=self.partner_audience,
            agreement=self.agreement,
            occurred_at=now,
            ids=ids,
            new_rows=kept,
        )

    def insert_new_before_emitting(self, session: Session, instances: Sequence[Any]) -> None:
        """:func:`~safeguarding_kit.new_rows.insert_new` for a change about to emit: when
        partners hear this outbox's events, their active webhooks are read in the inserts'
        own statement (``insert_new_then_read``) and the emit uses them, a round trip fewer."""
        if self.partner_audience is None:
            insert_new(session, instances)
            return
        keep_active_endpoints(
            session, insert_new_then_read(session, instances, active_endpoints_query(self.tables))
        )

    def publish(self, session: Session, data: EventData) -> uuid.UUID:
        """``emit`` the event ``data`` describes (its type, subject and ``data`` object): the
        typed way every service writes its events."""
        (event_id,) = self.publish_all(session, [data])
        return event_id

    def publish_all(self, session: Session, events: list[EventData]) -> list[uuid.UUID]:
        """:meth:`publish` for several events of one change, in order, in two statements."""
        return self.emit_all(
            session, [NewEvent(data.event_type, data.subject(), data.as_data()) for data in events]
        )


async def get_outbox(request: Request) -> Outbox:
    """The app's outbox (FastAPI dependency; a coroutine: it waits on nothing, and a plain
    function would be run in a worker thread on every request that writes)."""
    outbox: Outbox = request.app.state.outbox
    return outbox


OutboxDep = Annotated[Outbox, Depends(get_outbox)]
