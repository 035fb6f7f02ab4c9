"""The caller's bearer token (``Authorization: Bearer <JWT>``), read and verified the
same way by the gateway and by every service."""

from __future__ import annotations

from starlette.requests import Request

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.auth.verifier import TokenRejected, TokenVerifier
from safeguarding_kit.problems import Unauthenticated


def bearer_token(request: Request) -> str:
    """The token of the request's ``Authorization: Bearer`` header; 401 problem+json
    when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <token>' with a token from a trusted issuer.")
    return token.strip()


async def verified_caller(request: Request) -> Principal:
    """The caller the request's bearer token names, checked by the app's
    ``state.token_verifier``; 401 problem+json when the token is missing or untrusted."""
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify(bearer_token(request))
    except TokenRejected as exc:
        raise Unauthenticated(exc.reason) from exc
