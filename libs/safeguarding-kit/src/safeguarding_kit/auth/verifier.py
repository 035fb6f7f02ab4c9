"""Verify a bearer token against the trusted issuers and turn it into a Principal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from safeguarding_kit.auth.keys import JwksKeySource, KeyNotFound, KeySource, StaticKeySource
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.auth.token_cache import VerifiedTokens
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.settings import IssuerConfig, ProcessSettings

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
AGENCY_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_TOKEN_LENGTH = 8192
MAX_SUB_LENGTH = 255  # what every record of "who did it" holds


class TokenRejected(Exception):
    """The token cannot be trusted; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TrustedIssuer:
    config: IssuerConfig
    keys: KeySource


class TokenVerifier:
    """Checks signature (algorithms pinned per issuer, never taken from the token),
    ``exp``/``iat``/``iss``/``aud``/``sub`` present and valid, and the platform's claims
    against the partnership agreement: the agency one its issuer may vouch for, of the
    type the agreement gives it, with the capacities the agreement grants it."""

    def __init__(
        self,
        issuers: list[TrustedIssuer],
        agreement: Agreement,
        *,
        leeway_seconds: int = 10,
        cache_seconds: float = 0.0,
    ) -> None:
        if not 0 <= leeway_seconds <= 30:
            raise ValueError("leeway must be between 0 and 30 seconds")
        self._issuers = {i.config.issuer: i for i in issuers}
        self._agreement = agreement
        self._leeway = leeway_seconds
        self._verified = VerifiedTokens(cache_seconds)

    @classmethod
    def from_settings(cls, settings: ProcessSettings, client: httpx.AsyncClient) -> TokenVerifier:
        """A verifier for the settings' issuers; JWKS fetches go through ``client``."""
        trusted: list[TrustedIssuer] = []
        for config in settings.issuers():
            source: KeySource
            if config.jwks_url is not None:
                source = JwksKeySource(
                    str(config.jwks_url),
                    client=client,
                    cache_seconds=settings.jwks_cache_seconds,
                    min_refetch_seconds=settings.jwks_min_refetch_seconds,
                )
            else:
                source = StaticKeySource(pem=config.public_key_pem, path=config.public_key_file)
            trusted.append(TrustedIssuer(config, source))
        return cls(
            trusted,
            settings.agreement,
            leeway_seconds=settings.jwt_leeway_seconds,
            # Never longer than the keys are cached: a removed key stops working just as soon.
            cache_seconds=min(settings.jwt_cache_seconds, settings.jwks_cache_seconds),
        )

    async def verify(self, token: str) -> Principal:
        """The caller the token names, or :class:`TokenRejected` saying why not."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRejected("The token is too long.")
        if (known := self._verified.get(token)) is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenRejected("The token is not a well-formed JWT.") from exc

        trusted = self._issuers.get(str(unverified.get("iss")))
        if trusted is None:
            raise TokenRejected("The token's issuer is not trusted.")
        config = trusted.config
        if header.get("alg") not in config.algorithms:
            raise TokenRejected("The token's signing algorithm is not accepted for its issuer.")
        kid = header.get("kid")
        try:
            key = await trusted.keys.key_for(kid if isinstance(kid, str) else None)
        except KeyNotFound as exc:
            raise TokenRejected("The token's signing key is not known to its issuer.") from exc

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(config.algorithms),
                audience=config.audience,
                issuer=config.issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS, "verify_iat": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("The token has expired.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("The token is not valid yet.") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"The token lacks the required claim '{exc.claim}'.") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("The token is not meant for this platform (audience).") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("The token's issuer is not trusted.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("The token's signature does not verify.") from exc
        except jwt.PyJWTError as exc:
            raise TokenRejected("The token is not valid.") from exc
        principal = principal_from_claims(claims, config, self._agreement)
        self._verified.put(token, principal, float(claims["exp"]))
        return principal


def principal_from_claims(claims: dict[str, Any], config: IssuerConfig, agreement: Agreement) -> Principal:
    """The platform's claims checked against the agreement and typed; unknown roles are
    ignored, never widened."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("The token's 'sub' claim must be a non-empty string.")
    if len(sub) > MAX_SUB_LENGTH:
        raise TokenRejected(f"The token's 'sub' claim is longer than {MAX_SUB_LENGTH} characters.")
    agency = claims.get("agency")
    if not isinstance(agency, str) or not AGENCY_SLUG.match(agency):
        raise TokenRejected(
            "The token's 'agency' claim must be an agency slug such as 'south-yorkshire-police'."
        )
    try:
        agency_type = AgencyType(str(claims.get("agency_type")))
    except ValueError as exc:
        raise TokenRejected(
            "The token's 'agency_type' claim must be one of: " + ", ".join(t.value for t in AgencyType) + "."
        ) from exc
    if config.allowed_agency_types is not None and agency_type not in config.allowed_agency_types:
        raise TokenRejected("The token's issuer may not vouch for this agency type.")
    binding = agreement.issuer(config.issuer)
    if binding is None or not binding.may_vouch_for(agency):
        raise TokenRejected(
            f"The partnership agreement does not let the token's issuer vouch for agency '{agency}'."
        )
    entry = agreement.agency(agency)
    if entry is None:  # pragma: no cover - an agreement's issuers vouch only for its agencies
        raise TokenRejected(f"Agency '{agency}' is not in the partnership agreement.")
    if entry.type is not agency_type:
        raise TokenRejected(
            f"The token's 'agency_type' is not the type the partnership agreement gives agency '{agency}'."
        )
    raw_roles = claims.get("roles", [])
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    if not isinstance(raw_roles, list):
        raise TokenRejected("The token's 'roles' claim must be a list.")
    known = {r.value for r in Role}
    roles = frozenset(Role(r) for r in raw_roles if isinstance(r, str) and r in known)
    return Principal(
        sub=sub,
        agency=agency,
        agency_type=agency_type,
        roles=roles,
        issuer=config.issuer,
        capacities=entry.capacities,
    )
