"""Request and response bodies for partner webhook endpoints and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from safeguarding_kit.events import DEAD, DELIVERED, PENDING


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
