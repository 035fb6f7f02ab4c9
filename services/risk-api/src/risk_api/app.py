"""The risk service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from risk_api.risk_models.routes import router as risk_models_router
from risk_api.settings import RiskSettings
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DatabaseSettings

DESCRIPTION = """\
The partnership's child exploitation tracker: versioned weighted-indicator risk
models, assessments, and each child's current risk and its history. It holds no
names: a child is an opaque id issued by the referral service.

Authenticate with `Authorization: Bearer <JWT>` from a trusted agency identity
provider. Every error is RFC 9457 `application/problem+json`.
"""


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    return create_service_app(
        settings or RiskSettings(),
        title="Risk API",
        version="0.1.0",
        description=DESCRIPTION,
        routers=[risk_models_router],
        openapi_tags=[{"name": "risk-models", "description": "Versioned weighted-indicator risk models."}],
    )
