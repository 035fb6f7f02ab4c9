"""HTTP handlers for partner webhooks, mounted by each service at its own path with the
event types it publishes to partners."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import DEAD, DELIVERED, PENDING, EventTables
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, requires
from safeguarding_kit.problems import problem_responses
from safeguarding_kit.webhooks import service
from safeguarding_kit.webhooks.schemas import (
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)

WebhookAdmin = Annotated[Principal, Depends(requires(Permission.manage_agency_webhooks))]


def webhooks_router(tables: EventTables, *, path: str, partner_event_types: list[str], tag: str) -> APIRouter:
    """An agency admin's endpoints for its webhooks at ``path`` (``.../endpoints``)."""
    router = APIRouter(tags=[tag])
    published = frozenset(partner_event_types)
    types_text = ", ".join(sorted(published))
    operation = tag.title().replace("-", "")

    @router.post(
        f"{path}/endpoints",
        status_code=201,
        operation_id=f"create{operation}Endpoint",
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
        return service.register_endpoint(
            session,
            tables,
            principal,
            body,
            published=published,
            private_addresses_allowed=request.app.state.settings.webhook_private_addresses_allowed,
        )

    @router.get(
        f"{path}/endpoints",
        operation_id=f"list{operation}Endpoints",
        summary="Your agency's webhook endpoints, newest first",
        response_model=Page[WebhookEndpointRead],
        responses=problem_responses(400, 401, 403, 422),
    )
    def list_endpoints(
        session: SessionDep, principal: WebhookAdmin, limit: LimitParam = 25, cursor: CursorParam = None
    ) -> Page[WebhookEndpointRead]:
        """Newest first, removed endpoints included (`active: false`), `limit` at a time."""
        return service.endpoints_page(session, tables, principal, limit=limit, cursor=cursor)

    @router.delete(
        f"{path}/endpoints/{{endpoint_id}}",
        status_code=204,
        operation_id=f"remove{operation}Endpoint",
        summary="Stop deliveries to a webhook endpoint",
        responses=problem_responses(401, 403, 404, 422),
    )
    def remove_endpoint(endpoint_id: uuid.UUID, session: SessionDep, principal: WebhookAdmin) -> Response:
        """Deliveries not yet made are given up; the history stays."""
        service.remove_endpoint(session, tables, principal, endpoint_id)
        return Response(status_code=204)

    @router.get(
        f"{path}/endpoints/{{endpoint_id}}/deliveries",
        operation_id=f"list{operation}Deliveries",
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
        return service.deliveries_page(
            session, tables, principal, endpoint_id, status=status, limit=limit, cursor=cursor
        )

    @router.post(
        f"{path}/endpoints/{{endpoint_id}}/deliveries/{{delivery_id}}/redelivery",
        status_code=202,
        operation_id=f"redeliver{operation}Delivery",
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
        return service.redeliver(session, tables, principal, endpoint_id, delivery_id)

    return router
