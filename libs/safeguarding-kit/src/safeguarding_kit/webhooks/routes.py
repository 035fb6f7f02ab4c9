"""HTTP handlers for partner webhooks, mounted by each service under
``/api/v1/webhooks/<name>-service`` with operation ids named for it
(:class:`~safeguarding_kit.service_label.ServiceLabel`), for the event types it publishes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.created import CreatedJSONResponse
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import DEAD, DELIVERED, PENDING, EventTables
from safeguarding_kit.idempotency import IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, requires
from safeguarding_kit.problems import problem_responses
from safeguarding_kit.webhooks import service
from safeguarding_kit.webhooks.published import PartnerEvents
from safeguarding_kit.webhooks.schemas import (
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    endpoint_create_model,
)

WebhookAdmin = Annotated[Principal, Depends(requires(Permission.manage_agency_webhooks))]


def webhooks_router(tables: EventTables, partner_events: PartnerEvents) -> APIRouter:
    """An agency admin's endpoints for its webhooks of ``partner_events.service``."""
    router = APIRouter(tags=["webhooks"])
    label = partner_events.service
    path = label.webhooks_prefix
    published = frozenset(partner_events.types)
    types_text = ", ".join(f"`{t}`" for t in sorted(published))

    def create_endpoint(
        body: WebhookEndpointCreate,
        request: Request,
        session: SessionDep,
        principal: WebhookAdmin,
        once: IdempotentCreate,
    ) -> JSONResponse:
        def register() -> JSONResponse:
            created = service.register_endpoint(
                session,
                tables,
                principal,
                body,
                published=published,
                private_addresses_allowed=request.app.state.settings.webhook_private_addresses_allowed,
            )
            return CreatedJSONResponse(
                created.model_dump(mode="json"), location=f"{path}/endpoints/{created.id}"
            )

        return once.answer(session, principal, body, register)

    # FastAPI reads the body's model from the annotation: this service's own, made at run time.
    create_endpoint.__annotations__["body"] = endpoint_create_model(partner_events.types, label.title)
    router.add_api_route(
        f"{path}/endpoints",
        create_endpoint,
        methods=["POST"],
        status_code=201,
        operation_id=label.operation_id("create", "WebhookEndpoint"),
        summary="Register a webhook endpoint for your agency",
        description=f"Admins only, for their own agency. Events published here: {types_text} "
        "(each described, with its payload and how to verify its signature, under the spec's "
        "`webhooks`). Each delivery is a CloudEvents 1.0 JSON body signed Standard Webhooks style "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "
        "id.timestamp.body>`), about children your agency may see, with ids and types only. "
        "The URL must be https to a host whose addresses are all public: a loopback, private, "
        "link-local or metadata address, or a name that does not resolve, is 422 naming `url`.",
        response_model=WebhookEndpointCreated,
        responses=problem_responses(401, 403, 422),
    )

    @router.get(
        f"{path}/endpoints",
        operation_id=label.operation_id("list", "WebhookEndpoints"),
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
        operation_id=label.operation_id("remove", "WebhookEndpoint"),
        summary="Stop deliveries to a webhook endpoint",
        responses=problem_responses(401, 403, 404, 422),
    )
    def remove_endpoint(
        endpoint_id: uuid.UUID, request: Request, session: SessionDep, principal: WebhookAdmin
    ) -> Response:
        """Deliveries not yet made are given up; the history stays."""
        idempotency = request.app.state.idempotency_keys
        service.remove_endpoint(session, tables, principal, endpoint_id, idempotency=idempotency)
        return Response(status_code=204)

    @router.get(
        f"{path}/endpoints/{{endpoint_id}}/deliveries",
        operation_id=label.operation_id("list", "WebhookDeliveries"),
        summary="Deliveries to a webhook endpoint, newest first",
        response_model=WebhookDeliveryPage,
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    def list_deliveries(
        endpoint_id: uuid.UUID,
        session: SessionDep,
        principal: WebhookAdmin,
        status: Annotated[
            str | None,
            Query(pattern=f"^({PENDING}|{DELIVERED}|{DEAD})$", description="Only deliveries in this state."),
        ] = None,
        limit: LimitParam = 25,
        cursor: Annotated[
            str | None,
            Query(
                pattern=r"^[0-9]{1,9}$", description="The previous page's `next_cursor`; omit for the first."
            ),
        ] = None,
    ) -> WebhookDeliveryPage:
        return service.deliveries_page(
            session, tables, principal, endpoint_id, status=status, limit=limit, cursor=cursor
        )

    @router.post(
        f"{path}/endpoints/{{endpoint_id}}/deliveries/{{delivery_id}}/redelivery",
        status_code=202,
        operation_id=label.operation_id("redeliver", "WebhookDelivery"),
        summary="Send a delivery again",
        response_model=WebhookDeliveryRead,
        responses=problem_responses(401, 403, 404, 409, 422),
        openapi_extra=naturally_idempotent(
            "It puts the one delivery back in the queue, never a new one: a repeat at most "
            "sends the same event id again, which receivers use to tell a repeat."
        ),
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
