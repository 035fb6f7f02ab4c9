"""The referral service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from referral_api.referrals.routes import router as referrals_router
from referral_api.settings import ReferralSettings
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DatabaseSettings

DESCRIPTION = """\
Referrals about children at risk of sexual or criminal exploitation, sent by partner
agencies' systems. This is the only service that holds children's names, dates of
birth and identifiers.

Authenticate with `Authorization: Bearer <JWT>` from a trusted agency identity
provider. Every error is RFC 9457 `application/problem+json`.
"""


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    return create_service_app(
        settings or ReferralSettings(),
        title="Referral API",
        version="0.1.0",
        description=DESCRIPTION,
        routers=[referrals_router],
        openapi_tags=[{"name": "referrals", "description": "Referrals from partner agencies."}],
    )
