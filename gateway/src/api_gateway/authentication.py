"""Who is calling: every proxied request's bearer token, verified against the trusted
issuers before it is routed (401 problem+json otherwise). The services verify it again
themselves, so a service reached without the gateway is no back door."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request

from api_gateway.settings import GatewaySettings
from safeguarding_kit.auth.bearer import verified_caller
from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.auth.verifier import TokenVerifier
from safeguarding_kit.service_app import verifier_http_client


@asynccontextmanager
async def token_verification(app: FastAPI, settings: GatewaySettings) -> AsyncIterator[None]:
    """The app's token verifier (``app.state.token_verifier``) for as long as the block
    runs, with the one client that fetches issuers' keys (and the development issuer's
    key pair when it is enabled)."""
    if settings.dev_issuer_enabled:
        ensure_dev_key_pair(settings.dev_issuer_dir)
    async with verifier_http_client(settings) as jwks_client:
        app.state.token_verifier = TokenVerifier.from_settings(settings, jwks_client)
        yield


async def authenticate(request: Request) -> Principal:
    """The verified caller of a proxied request; 401 problem+json when the token is
    missing or untrusted."""
    return await verified_caller(request)
