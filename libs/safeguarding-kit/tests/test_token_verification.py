"""Token verification: what an attacker tries, and what a real issuer sends."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from safeguarding_kit.auth.keys import JwksKeySource, StaticKeySource
from safeguarding_kit.auth.principal import AgencyType, Role
from safeguarding_kit.auth.verifier import TokenRejected, TokenVerifier, TrustedIssuer
from safeguarding_kit.partnership.agreement import parse_agreement
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.settings import IssuerConfig

ISSUER = "https://idp.south-yorkshire-police.example"
AUDIENCE = "safeguarding-platform"


# The police force's identity provider vouches for the force alone; the voluntary
# sector's for its members. Neither may mint the other's agencies.
VOLUNTARY_ISSUER = "https://idp.voluntary-action.example"
AGREEMENT = parse_agreement(
    {
        "partnership": "Test partnership",
        "version": "1",
        "issuers": [
            {"issuer": ISSUER, "agencies": ["south-yorkshire-police"]},
            {"issuer": VOLUNTARY_ISSUER, "agencies": ["youth-club-*"]},
        ],
        "agencies": [
            {
                "slug": "south-yorkshire-police",
                "name": "South Yorkshire Police",
                "type": "police",
                "capacities": ["all_cases", "intelligence"],
            },
            {"slug": "sheffield-schools", "name": "Sheffield schools", "type": "education"},
            {"pattern": "youth-club-*", "name": "Youth clubs", "type": "voluntary"},
        ],
    }
)


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PRIVATE = rsa_key()
PUBLIC_PEM = (
    PRIVATE.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "pc-1234",
        "iat": now,
        "exp": now + 600,
        "agency": "south-yorkshire-police",
        "agency_type": "police",
        "roles": ["practitioner", "referrer"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload, key=PRIVATE, alg="RS256", headers=None) -> str:
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def verifier(**config) -> TokenVerifier:
    issuer = IssuerConfig(issuer=ISSUER, audience=AUDIENCE, public_key_pem=PUBLIC_PEM, **config)
    return TokenVerifier(
        [TrustedIssuer(issuer, StaticKeySource(pem=PUBLIC_PEM))], AGREEMENT, leeway_seconds=10
    )


def verify(token: str, **config):
    return asyncio.run(verifier(**config).verify(token))


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_police_officers_token_becomes_a_typed_principal():
    principal = verify(sign(claims()))
    assert principal.sub == "pc-1234"
    assert principal.agency_type is AgencyType.police
    assert principal.roles == {Role.practitioner, Role.referrer}
    assert principal.capacities == {Capacity.all_cases, Capacity.intelligence}


def test_an_issuer_may_not_mint_an_agency_the_agreement_does_not_let_it_vouch_for():
    with pytest.raises(TokenRejected, match="vouch for agency 'sheffield-schools'"):
        verify(sign(claims(agency="sheffield-schools", agency_type="education")))
    with pytest.raises(TokenRejected, match="vouch for agency 'leeds-police'"):
        verify(sign(claims(agency="leeds-police")))


def test_a_token_claiming_another_type_than_the_agreement_gives_its_agency_is_refused():
    with pytest.raises(TokenRejected, match="agency_type"):
        verify(sign(claims(agency_type="social_care")))


def test_a_sub_longer_than_any_record_of_who_did_it_is_refused():
    with pytest.raises(TokenRejected, match="longer than 255"):
        verify(sign(claims(sub="x" * 256)))
    assert verify(sign(claims(sub="x" * 255))).sub == "x" * 255


def test_unknown_roles_are_ignored_not_granted():
    principal = verify(sign(claims(roles=["practitioner", "superuser"])))
    assert principal.roles == {Role.practitioner}


@pytest.mark.parametrize(
    ("attack", "token_factory"),
    [
        ("alg none", lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."),
        (
            "HS256 signed with the public key",
            lambda: f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims())}.c2ln",
        ),
        ("no exp", lambda: sign(claims(exp=None))),
        ("no iat", lambda: sign(claims(iat=None))),
        ("no sub", lambda: sign(claims(sub=None))),
        ("no aud", lambda: sign(claims(aud=None))),
        ("another audience", lambda: sign(claims(aud="another-platform"))),
        ("another issuer", lambda: sign(claims(iss="https://evil.example"))),
        ("expired beyond leeway", lambda: sign(claims(exp=int(time.time()) - 60))),
        ("not yet valid", lambda: sign(claims(nbf=int(time.time()) + 600))),
        ("signed by another key", lambda: sign(claims(), key=rsa_key())),
        (
            "tampered payload",
            lambda: (lambda t: t.split(".")[0] + "." + b64(claims(roles=["admin"])) + "." + t.split(".")[2])(
                sign(claims())
            ),
        ),
        ("agency type outside the vocabulary", lambda: sign(claims(agency_type="military"))),
        ("agency not a slug", lambda: sign(claims(agency="Robert'); DROP TABLE"))),
        ("garbage", lambda: "not.a.jwt"),
    ],
)
def test_attacks_and_malformed_tokens_are_rejected(attack, token_factory):
    with pytest.raises(TokenRejected):
        verify(token_factory())


def test_hs256_signed_with_the_public_key_pem_is_rejected():
    # The classic key-confusion forgery, made the way an attacker would: HMAC keyed with the PEM.
    import hashlib
    import hmac

    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims())}"
    mac = hmac.new(PUBLIC_PEM.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    with pytest.raises(TokenRejected, match="algorithm"):
        verify(forged)


def test_expiry_within_the_leeway_is_tolerated():
    assert verify(sign(claims(exp=int(time.time()) - 5))).sub == "pc-1234"


def test_an_issuer_may_only_vouch_for_its_own_agency_types():
    token = sign(claims(agency_type="health"))
    with pytest.raises(TokenRejected, match="agency type"):
        verify(token, allowed_agency_types=[AgencyType.police])
    assert verify(sign(claims()), allowed_agency_types=[AgencyType.police]).agency_type is AgencyType.police


def test_algorithm_is_pinned_by_configuration_not_taken_from_the_token():
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(TokenRejected, match="algorithm"):
        verify(sign(claims(), key=ec_key, alg="ES256"))


def test_leeway_over_30_seconds_is_refused():
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier([], AGREEMENT, leeway_seconds=31)


def test_hs_algorithms_cannot_be_configured_for_an_issuer():
    with pytest.raises(ValueError, match="algorithms"):
        IssuerConfig(issuer=ISSUER, public_key_pem=PUBLIC_PEM, algorithms=["HS256"])  # type: ignore[list-item]


# --- JWKS: a fake issuer answering over an in-process transport ---------------------------


class FakeIssuer:
    """A JWKS endpoint whose keys, availability and fetch count the test controls."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": PRIVATE}
        self.up = True
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if not self.up:
            return httpx.Response(503)
        jwks = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, alg="RS256", use="sig")
            jwks.append(jwk)
        return httpx.Response(200, json={"keys": jwks})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def jwks_verifier(fake: FakeIssuer, clock: Clock) -> TokenVerifier:
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    source = JwksKeySource(
        "https://idp.example/jwks",
        client=client,
        cache_seconds=300,
        min_refetch_seconds=5,
        clock=clock,
    )
    config = IssuerConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url="https://idp.example/jwks")
    return TokenVerifier([TrustedIssuer(config, source)], AGREEMENT)


def test_jwks_keys_are_cached_and_a_failed_refresh_keeps_the_last_good_keys():
    fake, clock = FakeIssuer(), Clock()
    v = jwks_verifier(fake, clock)
    token = sign(claims(), headers={"kid": "k1"})

    async def scenario() -> None:
        await v.verify(token)
        await v.verify(token)
        assert fake.fetches == 1  # cached
        fake.up = False
        clock.now += 301  # cache lifetime passed, issuer down
        assert (await v.verify(token)).sub == "pc-1234"

    asyncio.run(scenario())


def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval():
    fake, clock = FakeIssuer(), Clock()
    v = jwks_verifier(fake, clock)

    async def scenario() -> None:
        await v.verify(sign(claims(), headers={"kid": "k1"}))
        for burst in range(2):
            for i in range(50):
                with pytest.raises(TokenRejected, match="signing key"):
                    await v.verify(sign(claims(), headers={"kid": f"random-{burst}-{i}"}))
            clock.now += 6  # the next burst comes after the refetch floor
        assert fake.fetches == 2  # one at warm-up, one for the second burst

    asyncio.run(scenario())


def test_a_rotated_key_is_picked_up_and_a_removed_key_stops_after_the_lifetime():
    fake, clock = FakeIssuer(), Clock()
    v = jwks_verifier(fake, clock)
    new_key = rsa_key()

    async def scenario() -> None:
        await v.verify(sign(claims(), headers={"kid": "k1"}))
        fake.keys = {"k2": new_key}
        clock.now += 6
        assert (await v.verify(sign(claims(), key=new_key, headers={"kid": "k2"}))).sub == "pc-1234"
        clock.now += 301
        with pytest.raises(TokenRejected, match="signing key"):
            await v.verify(sign(claims(), headers={"kid": "k1"}))

    asyncio.run(scenario())


def test_a_verified_token_is_checked_once_within_the_cache_lifetime_and_a_refused_one_every_time():
    class CountingKeys:
        def __init__(self) -> None:
            self.lookups = 0

        async def key_for(self, kid):
            self.lookups += 1
            return await StaticKeySource(pem=PUBLIC_PEM).key_for(kid)

    keys = CountingKeys()
    issuer = IssuerConfig(issuer=ISSUER, audience=AUDIENCE, public_key_pem=PUBLIC_PEM)
    v = TokenVerifier([TrustedIssuer(issuer, keys)], AGREEMENT, cache_seconds=30)
    good, forged = sign(claims()), sign(claims(), key=rsa_key())

    async def scenario() -> None:
        for _ in range(3):
            assert (await v.verify(good)).sub == "pc-1234"
        assert keys.lookups == 1
        for _ in range(3):
            with pytest.raises(TokenRejected):
                await v.verify(forged)
        assert keys.lookups == 4

    asyncio.run(scenario())
