"""An attacker's tokens at the real gateway: each one is 401 problem+json and none of
them reaches a service. The same tokens sent straight to a service are refused there
too, so a service reached around the gateway is no back door."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from safeguarding_kit.settings import DEFAULT_AUDIENCE, DEV_ISSUER

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
SERVICES = ("referral-api", "risk-api", "meetings-api")


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims(**overrides: object) -> dict:
    now = int(time.time())
    body: dict = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "attacker@sheffield-schools",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "agency": "sheffield-schools",
        "agency_type": "education",
        "roles": ["referrer"],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def stranger_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def attacks(dev_dir: Path, police_dir: Path, police_idp: str) -> dict[str, Callable[[], str]]:
    dev_key = (dev_dir / "private.pem").read_bytes()
    dev_public = (dev_dir / "public.pem").read_bytes()
    police_key = (police_dir / "private.pem").read_bytes()

    def signed(body: dict, key: bytes = dev_key, kid: str = "dev-1") -> str:
        return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})

    def tampered() -> str:
        header, _, signature = signed(claims()).split(".")
        return f"{header}.{b64(claims(agency_type='police', roles=['manager']))}.{signature}"

    def hs256_with_public_key() -> str:
        # PyJWT refuses a PEM as an HMAC key, which is the point: forge it by hand.
        import hashlib
        import hmac

        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'dev-1'})}.{b64(claims())}"
        mac = hmac.new(dev_public, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")

    now = int(time.time())
    return {
        "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
        "HS256 signed with the issuer's public key": hs256_with_public_key,
        "no exp": lambda: signed(claims(exp=None)),
        "no iat": lambda: signed(claims(iat=None)),
        "no sub": lambda: signed(claims(sub=None)),
        "another audience": lambda: signed(claims(aud="another-platform")),
        "another issuer": lambda: signed(claims(iss="https://evil.example")),
        "expired": lambda: signed(claims(iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
        "not yet valid": lambda: signed(claims(iat=now + 3600, nbf=now + 3600, exp=now + 7200)),
        "unknown kid": lambda: signed(claims(), key=stranger_pem(), kid="rotated-2027"),
        "right kid, another key": lambda: signed(claims(), key=stranger_pem()),
        "tampered payload": tampered,
        "police IdP vouching for a health worker": lambda: signed(
            claims(iss=police_idp, agency="sheffield-health", agency_type="health", roles=["practitioner"]),
            key=police_key,
        ),
        # The partnership agreement binds each issuer to its agencies and each agency to its type.
        "police IdP minting another force the agreement does not let it vouch for": lambda: signed(
            claims(iss=police_idp, agency="leeds-police", agency_type="police", roles=["practitioner"]),
            key=police_key,
        ),
        "dev issuer minting an agency the agreement does not know": lambda: signed(
            claims(agency="sheffield-unknown-charity", agency_type="voluntary", roles=["admin"])
        ),
        "a school claiming to be the police": lambda: signed(
            claims(agency="sheffield-schools", agency_type="police", roles=["practitioner"])
        ),
        "a GP surgery claiming to be the MASH health team's type and more": lambda: signed(
            claims(agency="norfolk-park-medical-practice", agency_type="social_care", roles=["manager"])
        ),
        "a sub longer than any record of who did it": lambda: signed(claims(sub="x" * 300)),
        "garbage": lambda: "not.a.jwt",
    }


def test_every_forged_or_misissued_token_is_401_at_the_gateway_and_never_reaches_a_service(
    stack, stack_tokens, police_idp
):
    data_dir = Path(stack.config.data_dir)
    tried = attacks(data_dir / "dev-issuer", data_dir / "police-idp", police_idp)
    request_ids = {}
    control_id = f"jwt-control-{uuid.uuid4().hex}"
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15.0) as gateway:
        # A genuine token with a known request id: it must show in the service's log,
        # or the absence of the attackers' ids below would prove nothing.
        genuine = gateway.get(
            "/api/v1/referrals", headers={**stack_tokens.headers(), "X-Request-ID": control_id}
        )
        assert genuine.status_code == 200
        for name, make in tried.items():
            request_id = f"jwt-attack-{uuid.uuid4().hex}"
            request_ids[name] = request_id
            for path in ("/api/v1/referrals", "/api/v1/risk/models", "/api/v1/meetings/series"):
                answer = gateway.get(
                    path, headers={"Authorization": f"Bearer {make()}", "X-Request-ID": request_id}
                )
                assert answer.status_code == 401, f"{name} at {path}: {answer.status_code}"
                assert answer.headers["content-type"] == PROBLEM, name
                assert answer.headers["www-authenticate"].startswith("Bearer"), name

    time.sleep(0.5)  # let the services' log lines reach their files
    logs = {name: (stack.config.log_dir / f"{name}.log").read_text() for name in SERVICES}
    assert control_id in logs["referral-api"]
    for name, request_id in request_ids.items():
        for service, text in logs.items():
            assert request_id not in text, f"{name} reached {service}"


def test_the_same_tokens_sent_straight_to_each_service_are_refused_there(stack, police_idp):
    data_dir = Path(stack.config.data_dir)
    for name, make in attacks(data_dir / "dev-issuer", data_dir / "police-idp", police_idp).items():
        for service, path in zip(
            SERVICES, ("/api/v1/referrals", "/api/v1/risk/models", "/api/v1/meetings/series"), strict=True
        ):
            answer = httpx.get(
                stack.config.url_of(service) + path, headers={"Authorization": f"Bearer {make()}"}, timeout=15
            )
            assert answer.status_code == 401, f"{name} at {service}: {answer.status_code}"


def test_the_police_idp_is_trusted_for_police_officers(stack, police_idp):
    police_key = (Path(stack.config.data_dir) / "police-idp" / "private.pem").read_bytes()
    token = jwt.encode(
        claims(iss=police_idp, agency="south-yorkshire-police", agency_type="police", roles=["referrer"]),
        police_key,
        algorithm="RS256",
        headers={"kid": "dev-1"},
    )
    answer = httpx.get(
        stack.config.gateway_url + "/api/v1/referrals",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 200


def test_a_valid_token_without_the_role_is_403_from_the_service(stack, stack_tokens):
    referrer = stack_tokens.headers(agency="sheffield-schools", agency_type="education", roles=["referrer"])
    answer = httpx.post(
        stack.config.gateway_url + "/api/v1/children/00000000-0000-4000-8000-000000000001/merge",
        json={"duplicate_id": "00000000-0000-4000-8000-000000000002"},
        headers=referrer,
        timeout=15,
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM
