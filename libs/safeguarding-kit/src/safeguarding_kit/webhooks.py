"""Partner webhooks: an agency's admin registers an endpoint for the events its systems
want, sees the history of deliveries to it, and asks for one to be sent again.

An endpoint belongs to the admin's own agency (taken from the token, never from the
body), hears only of children that agency may see (the service's access rules, asked
when each event is written), and gets ids and types, never names. Deliveries are
signed with the endpoint's own secret, shown once when the endpoint is created.
The URL must be https to a public address (no loopback, private or metadata ranges),
checked at registration and again before every delivery.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import Session

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.events import DEAD, DELIVERED, PENDING, EventTables
from safeguarding_kit.outbound_urls import UnsafeUrl, check_outbound_url
from safeguarding_kit.pagination import LimitParam
from safeguarding_kit.partnership.policy import Permission, requires
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem, problem_responses

WebhookAdmin = Annotated[Principal, Depends(requires(Permission.manage_agency_webhooks))]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret


class UnsafeWebhookUrl(Problem):
    status, slug, title = 422, "unsafe-webhook-url", "Webhook URL not allowed"


class UnknownEventTypes(Problem):
    status, slug, title = 422, "unknown-event-types", "Unknown event types"


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.leeds-police.example/safeguarding",
                    "event_types": ["referral.received", "risk.level_changed"],
                }
            ]
        },
    )

    url: HttpUrl = Field(description="Where deliveries are POSTed: https, a public address.")
    event_types: list[str] = Field(min_length=1, max_length=50)
    secret: str | None = Field(
        None,
        min_length=32,
        max_length=200,
        description="Signing secret; leave out to have one generated (shown once, in the answer).",
    )


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7e3f4e-8a54-4f0c-9d6d-3a4a1c1e9b10",
                    "agency": "leeds-police",
                    "url": "https://hooks.leeds-police.example/safeguarding",
                    "event_types": ["referral.received"],
                    "active": True,
                    "created_by": "admin@leeds-police",
                    "created_at": "2026-11-25T09:30:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    agency: str
    url: str
    event_types: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str = Field(description="Verify each delivery's `webhook-signature` with it. Not shown again.")


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 812,
                    "event_id": "4d1c1f0e-1e1b-4a53-8c89-2f0d5b1b9e77",
                    "event_type": "referral.received",
                    "subject": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "status": "dead",
                    "attempts": 8,
                    "last_error": "HTTP 500",
                    "next_attempt_at": "2026-11-25T09:34:15Z",
                    "delivered_at": None,
                    "occurred_at": "2026-11-25T09:30:00Z",
                }
            ]
        }
    )

    id: int
    event_id: uuid.UUID
    event_type: str
    subject: str = Field(description="The child's opaque id.")
    status: str = Field(description=f"{PENDING}, {DELIVERED} or {DEAD}.")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    occurred_at: datetime


class WebhookDeliveryPage(BaseModel):
    items: list[WebhookDeliveryRead]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for older deliveries.")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _endpoint(session: Session, tables: EventTables, principal: Principal, endpoint_id: uuid.UUID) -> Any:
    """The endpoint, if it belongs to the caller's agency; 404 otherwise (as if absent)."""
    w = tables.webhook_endpoints
    row = session.execute(
        select(w).where(w.c.id == endpoint_id, w.c.agency == principal.agency)
    ).one_or_none()
    if row is None:
        raise NotFound("Your agency has no webhook endpoint with this id.")
    return row


def _read(row: Any) -> WebhookEndpointRead:
    return WebhookEndpointRead.model_validate(row, from_attributes=True)


def webhooks_router(tables: EventTables, *, path: str, partner_event_types: list[str], tag: str) -> APIRouter:
    """An agency admin's endpoints for its webhooks at ``path`` (``.../endpoints``)."""
    router = APIRouter(tags=[tag])
    allowed_types = frozenset(partner_event_types)
    types_text = ", ".join(sorted(allowed_types))
    w, d, e = tables.webhook_endpoints, tables.deliveries, tables.events

    def deliveries_of(endpoint_id: uuid.UUID) -> Select[Any]:
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

    @router.post(
        f"{path}/endpoints",
        status_code=201,
        operation_id=f"create{tag.title().replace('-', '')}Endpoint",
        summary="Register a webhook endpoint for your agency",
        description=f"Admins only, for their own agency. Events published here: {types_text}. "
        "Each delivery is a CloudEvents 1.0 JSON body signed Standard Webhooks style "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "
        "id.timestamp.body>`), about children your agency may see, with ids and types only.",
        response_model=WebhookEndpointCreated,
        responses=problem_responses(401, 403, 422),
    )
    def create_endpoint(
        body: WebhookEndpointCreate, request: Request, session: SessionDep, principal: WebhookAdmin
    ) -> WebhookEndpointCreated:
        unknown = sorted(set(body.event_types) - allowed_types)
        if unknown:
            raise UnknownEventTypes(
                f"These event types are not published here: {', '.join(unknown)}. Choose from {types_text}.",
                errors=[
                    FieldError(detail=f"unknown event type {t!r}", pointer="#/event_types") for t in unknown
                ],
            )
        try:
            check_outbound_url(
                str(body.url),
                private_addresses_allowed=request.app.state.settings.webhook_private_addresses_allowed,
            )
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
        session.execute(insert(w).values(**values))
        session.commit()
        return WebhookEndpointCreated.model_validate(values)

    @router.get(
        f"{path}/endpoints",
        operation_id=f"list{tag.title().replace('-', '')}Endpoints",
        summary="Your agency's webhook endpoints",
        response_model=list[WebhookEndpointRead],
        responses=problem_responses(401, 403),
    )
    def list_endpoints(session: SessionDep, principal: WebhookAdmin) -> list[WebhookEndpointRead]:
        rows = session.execute(select(w).where(w.c.agency == principal.agency).order_by(w.c.created_at))
        return [_read(row) for row in rows]

    @router.delete(
        f"{path}/endpoints/{{endpoint_id}}",
        status_code=204,
        operation_id=f"remove{tag.title().replace('-', '')}Endpoint",
        summary="Stop deliveries to a webhook endpoint",
        responses=problem_responses(401, 403, 404, 422),
    )
    def remove_endpoint(endpoint_id: uuid.UUID, session: SessionDep, principal: WebhookAdmin) -> Response:
        """Deliveries not yet made are given up; the history stays."""
        _endpoint(session, tables, principal, endpoint_id)
        session.execute(update(w).where(w.c.id == endpoint_id).values(active=False))
        session.execute(
            update(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.status == PENDING)
            .values(status=DEAD, last_error="the webhook endpoint was removed")
        )
        session.commit()
        return Response(status_code=204)

    @router.get(
        f"{path}/endpoints/{{endpoint_id}}/deliveries",
        operation_id=f"list{tag.title().replace('-', '')}Deliveries",
        summary="Deliveries to a webhook endpoint, newest first",
        response_model=WebhookDeliveryPage,
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    def list_deliveries(
        endpoint_id: uuid.UUID,
        session: SessionDep,
        principal: WebhookAdmin,
        status: Annotated[str | None, Query(pattern=f"^({PENDING}|{DELIVERED}|{DEAD})$")] = None,
        limit: LimitParam = 25,
        cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
    ) -> WebhookDeliveryPage:
        _endpoint(session, tables, principal, endpoint_id)
        stmt = deliveries_of(endpoint_id).order_by(d.c.id.desc()).limit(limit + 1)
        if status:
            stmt = stmt.where(d.c.status == status)
        if cursor:
            stmt = stmt.where(d.c.id < int(cursor))
        rows = session.execute(stmt).all()
        items = [WebhookDeliveryRead.model_validate(r, from_attributes=True) for r in rows[:limit]]
        return WebhookDeliveryPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)

    @router.post(
        f"{path}/endpoints/{{endpoint_id}}/deliveries/{{delivery_id}}/redelivery",
        status_code=202,
        operation_id=f"redeliver{tag.title().replace('-', '')}Delivery",
        summary="Send a delivery again",
        response_model=WebhookDeliveryRead,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    def redeliver(
        endpoint_id: uuid.UUID,
        delivery_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
        session: SessionDep,
        principal: WebhookAdmin,
    ) -> WebhookDeliveryRead:
        """A dead (or delivered) delivery is queued again, with its tries counted afresh;
        the receiver gets the same event id, so it can tell a repeat."""
        endpoint = _endpoint(session, tables, principal, endpoint_id)
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
        row = session.execute(deliveries_of(endpoint_id).where(d.c.id == delivery_id)).one()
        return WebhookDeliveryRead.model_validate(row, from_attributes=True)

    return router
