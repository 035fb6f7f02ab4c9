"""FastAPI dependencies: the verified caller, and role checks on top of it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from safeguarding_kit.auth.principal import Principal, Role
from safeguarding_kit.auth.verifier import TokenRejected, TokenVerifier
from safeguarding_kit.problems import Forbidden, Unauthenticated

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="A JWT from a trusted agency identity provider (RS256/ES256), carrying "
    "`sub`, `agency`, `agency_type` and `roles`. In development, `make token` prints one.",
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller; 401 problem+json when the token is missing or untrusted."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("Send 'Authorization: Bearer <token>' with a token from a trusted issuer.")
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except TokenRejected as exc:
        raise Unauthenticated(exc.reason) from exc
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that passes callers holding any of ``roles`` and refuses others with 403."""
    names = ", ".join(r.value for r in roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden(f"This operation needs one of these roles: {names}.")
        return principal

    return check
