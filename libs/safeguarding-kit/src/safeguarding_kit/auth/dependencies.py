"""FastAPI dependencies: the verified caller. What a caller may do is the policy's
(:func:`safeguarding_kit.partnership.policy.requires`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from safeguarding_kit.auth.bearer import verified_caller
from safeguarding_kit.auth.principal import Principal

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="A JWT from a trusted agency identity provider (RS256/ES256), carrying "
    "`sub`, `agency`, `agency_type` and `roles`. In development, `make token` prints one.",
)


async def current_principal(
    request: Request,
    # Read by verified_caller; declared so that each operation's spec names the scheme.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller; 401 problem+json when the token is missing or untrusted."""
    principal = await verified_caller(request)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
