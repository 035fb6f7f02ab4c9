"""The rules of partner webhook endpoints: an endpoint is its agency's alone (404 for
anyone else's, as if absent), listens only to the event types the service publishes to
partners, calls only a public https address, and is signed with its own secret."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, Table, and_, insert, or_, select, update
from sqlalchemy.orm import Session

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import DEAD, PENDING, EventTables, forget_active_endpoints
from safeguarding_kit.idempotency import forget_answers_for
from safeguarding_kit.outbound_urls import UnsafeUrl, check_outbound_url
from safeguarding_kit.pagination import Page, decode_cursor, encode_cursor
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem
from safeguarding_kit.webhooks.schemas import (
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret


class UnsafeWebhookUrl(Problem):
    """The webhook URL is not https to a host whose every address is public, so the platform
    will not call it."""

    status, slug, title = 422, "unsafe-webhook-url", "Webhook URL not allowed"


class UnknownEventTypes(Problem):
    """A webhook endpoint asks for event types this service does not publish."""

    status, slug, title = 422, "unknown-event-types", "Unknown event types"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def endpoint_of_agency(
    session: Session, tables: EventTables, principal: Principal, endpoint_id: uuid.UUID
) -> Any:
    """The endpoint, if it belongs to the caller's agency; 404 otherwise (as if absent)."""
    w = tables.webhook_endpoints
    row = session.execute(
        select(w).where(w.c.id == endpoint_id, w.c.agency == principal.agency)
    ).one_or_none()
    if row is None:
        raise NotFound("Your agency has no webhook endpoint with this id.")
    return row


def _deliveries_of(tables: EventTables, endpoint_id: uuid.UUID) -> Select[Any]:
    d, e = tables.deliveries, tables.events
    return (
        select(
            d.c.id,
            d.c.status,
            d.c.attempts,
            d.c.last_error,
            d.c.next_attempt_at,
            d.c.delivered_at,
            d.c.subject,
            e.c.id.label("event_id"),
            e.c.type.label("event_type"),
            e.c.occurred_at,
        )
        .join(e, e.c.seq == d.c.event_seq)
        .where(d.c.endpoint_id == endpoint_id)
    )


def register_endpoint(
    session: Session,
    tables: EventTables,
    principal: Principal,
    body: WebhookEndpointCreate,
    *,
    published: Collection[str],
    private_addresses_allowed: bool,
) -> WebhookEndpointCreated:
    """A new endpoint of the caller's agency for event types among ``published``; 422 for
    other types or a URL the platform will not call. Does not commit: the caller (the
    idempotent create) commits with its answer, which holds the secret."""
    unknown = sorted(set(body.event_types) - set(published))
    if unknown:
        raise UnknownEventTypes(
            f"These event types are not published here: {', '.join(unknown)}. "
            f"Choose from {', '.join(sorted(published))}.",
            errors=[FieldError(detail=f"unknown event type {t!r}", pointer="#/event_types") for t in unknown],
        )
    try:
        check_outbound_url(str(body.url), private_addresses_allowed=private_addresses_allowed)
    except UnsafeUrl as exc:
        raise UnsafeWebhookUrl(
            f"The platform will not call this URL: {exc}.",
            errors=[FieldError(detail=str(exc), pointer="#/url")],
        ) from exc
    values = {
        "id": uuid.uuid4(),
        "agency": principal.agency,
        "agency_type": principal.agency_type.value,
        "url": str(body.url),
        "event_types": sorted(set(body.event_types)),
        "secret": body.secret or new_secret(),
        "active": True,
        "created_by": principal.sub,
        "created_at": utc_now(),
    }
    session.execute(insert(tables.webhook_endpoints).values(**values))
    forget_active_endpoints(session)
    return WebhookEndpointCreated.model_validate(values)


def endpoints_page(
    session: Session, tables: EventTables, principal: Principal, *, limit: int, cursor: str | None
) -> Page[WebhookEndpointRead]:
    """The caller's agency's endpoints (removed ones too, inactive), newest first,
    ``limit`` at a time after ``cursor``."""
    w = tables.webhook_endpoints
    stmt = select(w).where(w.c.agency == principal.agency)
    if cursor:
        after_created, after_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(w.c.created_at < after_created, and_(w.c.created_at == after_created, w.c.id < after_id))
        )
    rows = list(session.execute(stmt.order_by(w.c.created_at.desc(), w.c.id.desc()).limit(limit + 1)))
    items = [WebhookEndpointRead.model_validate(row, from_attributes=True) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page[WebhookEndpointRead](items=items, next_cursor=next_cursor)


def remove_endpoint(
    session: Session,
    tables: EventTables,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    idempotency: Table | None,
) -> None:
    """Stop deliveries to the endpoint: those not yet made are given up, the history
    stays, and the stored answer to its create (which holds its secret, for retries) goes.
    Commits."""
    w, d = tables.webhook_endpoints, tables.deliveries
    endpoint_of_agency(session, tables, principal, endpoint_id)
    if idempotency is not None:
        forget_answers_for(session, idempotency, resource_id=str(endpoint_id))
    session.execute(update(w).where(w.c.id == endpoint_id).values(active=False))
    forget_active_endpoints(session)
    session.execute(
        update(d)
        .where(d.c.endpoint_id == endpoint_id, d.c.status == PENDING)
        .values(status=DEAD, last_error="the webhook endpoint was removed")
    )
    session.commit()


def deliveries_page(
    session: Session,
    tables: EventTables,
    principal: Principal,
    endpoint_id: uuid.UUID,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> WebhookDeliveryPage:
    """Deliveries to the endpoint, newest first, ``limit`` at a time (``cursor``: the
    last delivery id of the page before)."""
    d = tables.deliveries
    endpoint_of_agency(session, tables, principal, endpoint_id)
    stmt = _deliveries_of(tables, endpoint_id).order_by(d.c.id.desc()).limit(limit + 1)
    if status:
        stmt = stmt.where(d.c.status == status)
    if cursor:
        stmt = stmt.where(d.c.id < int(cursor))
    rows = session.execute(stmt).all()
    items = [WebhookDeliveryRead.model_validate(r, from_attributes=True) for r in rows[:limit]]
    return WebhookDeliveryPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


def redeliver(
    session: Session, tables: EventTables, principal: Principal, endpoint_id: uuid.UUID, delivery_id: int
) -> WebhookDeliveryRead:
    """The delivery queued again with its tries counted afresh; 409 for a removed
    endpoint, 404 for a delivery not to this endpoint. Commits."""
    d = tables.deliveries
    endpoint = endpoint_of_agency(session, tables, principal, endpoint_id)
    if not endpoint.active:
        raise Conflict("This endpoint was removed; register it again to receive events.")
    changed = session.execute(
        update(d)
        .where(d.c.id == delivery_id, d.c.endpoint_id == endpoint_id)
        .values(status=PENDING, attempts=0, next_attempt_at=utc_now(), last_error=None)
    )
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("This endpoint has no delivery with this id.")
    session.commit()
    row = session.execute(_deliveries_of(tables, endpoint_id).where(d.c.id == delivery_id)).one()
    return WebhookDeliveryRead.model_validate(row, from_attributes=True)
