"""The meetings service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from meetings_api.series.routes import router as series_router
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DatabaseSettings

DESCRIPTION = """\
Multi-agency meetings that manage exploitation risk: MACE (weekly, chaired by
social care), CETG (police-led, on perpetrators and places), missing and mapping
meetings. Meetings are scheduled in Europe/London time. No child's name is held
here: children are opaque ids issued by the referral service.

Authenticate with `Authorization: Bearer <JWT>` from a trusted agency identity
provider. Every error is RFC 9457 `application/problem+json`.
"""


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    return create_service_app(
        settings or MeetingsSettings(),
        title="Meetings API",
        version="0.1.0",
        description=DESCRIPTION,
        routers=[series_router],
        openapi_tags=[{"name": "meeting-series", "description": "Recurring multi-agency meetings."}],
    )
