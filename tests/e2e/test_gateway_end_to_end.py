"""The whole path through real processes: client -> gateway -> service, over HTTP,
with tokens signed by the dev issuer's real key pair."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from safeguarding_kit.auth.dev_issuer import mint_token

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}


@pytest.fixture
def gateway(stack):
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15.0) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_gateway_is_ready_when_every_service_is(gateway):
    response = gateway.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "referral-api": "ok",
        "risk-api": "ok",
        "meetings-api": "ok",
    }


def test_a_referral_posted_at_the_gateway_is_read_back_through_it(gateway, stack_tokens):
    headers = stack_tokens.headers(**SCHOOL)
    body = {
        "child": {
            "given_name": "Riley",
            "family_name": "Sample",
            "date_of_birth": "2010-06-01",
            "gender": "female",
        },
        "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
        "concern_types": ["county_lines"],
        "summary": "Seen with older youths at the station.",
        "lawful_basis": {"basis": "consent"},
        "urgency": "urgent",
    }
    created = gateway.post("/api/v1/referrals", json=body, headers=headers)
    assert created.status_code == 201, created.text
    listed = gateway.get("/api/v1/referrals", headers=headers)
    assert listed.status_code == 200
    assert created.json()["id"] in {r["id"] for r in listed.json()["items"]}


def test_each_service_is_reached_by_its_path(gateway, stack_tokens):
    admin = stack_tokens.headers(agency="sheffield-council", agency_type="social_care", roles=["admin"])
    coordinator = stack_tokens.headers(roles=["meeting_coordinator"])
    assert gateway.get("/api/v1/risk/models", headers=admin).status_code == 200
    assert gateway.get("/api/v1/meetings/series", headers=coordinator).status_code == 200


def test_request_id_is_kept_from_caller_to_service_and_back(gateway, stack_tokens, stack):
    response = gateway.get(
        "/api/v1/referrals",
        headers={**stack_tokens.headers(**SCHOOL), "X-Request-ID": "e2e-trace-000042"},
    )
    assert response.headers["x-request-id"] == "e2e-trace-000042"
    time.sleep(0.2)
    service_log = (stack.config.log_dir / "referral-api.log").read_text()
    assert "e2e-trace-000042" in service_log


def test_no_token_is_401_problem_and_never_reaches_a_service(gateway):
    response = gateway.get("/api/v1/referrals")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert "server" not in response.headers


def test_expired_token_is_401(gateway, stack_tokens):
    token = mint_token(
        stack_tokens.private_pem,
        sub="a",
        agency="sheffield-schools",
        agency_type="education",
        roles=["referrer"],
        now=time.time() - 7200,
        lifetime_seconds=600,
    )
    response = gateway.get("/api/v1/referrals", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "The token has expired."


def test_token_signed_by_an_unknown_key_is_401(gateway):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = mint_token(
        stranger, sub="a", agency="sheffield-schools", agency_type="education", roles=["referrer"]
    )
    response = gateway.get("/api/v1/referrals", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


def test_alg_none_token_is_401(gateway, stack_tokens):
    valid = stack_tokens(**SCHOOL)
    claims = jwt.decode(valid, options={"verify_signature": False})

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    response = gateway.get("/api/v1/referrals", headers=bearer(unsigned))
    assert response.status_code == 401


def test_a_service_reached_without_the_gateway_checks_the_token_itself(stack):
    direct = httpx.get(stack.config.url_of("referral-api") + "/api/v1/referrals", timeout=5)
    assert direct.status_code == 401
    assert direct.headers["content-type"] == PROBLEM


def test_unknown_api_path_is_404_problem(gateway, stack_tokens):
    response = gateway.get("/api/v1/nothing-here", headers=stack_tokens.headers(**SCHOOL))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_referral_service_down_is_503_problem_within_the_timeout_then_recovers(gateway, stack_tokens, stack):
    headers = stack_tokens.headers(**SCHOOL)
    stack.stop("referral-api")
    try:
        # The stack's gateway is configured with a 1 s connect and 5 s upstream timeout; a
        # client that waits no longer than that gets the 503 rather than a hang.
        with httpx.Client(base_url=stack.config.gateway_url, timeout=6.0) as impatient:
            response = impatient.get("/api/v1/referrals", headers=headers)
            assert response.status_code == 503
            assert response.headers["content-type"] == PROBLEM
            assert "referral-api" in response.json()["detail"]
            assert impatient.get("/readyz").status_code == 503
    finally:
        stack.start("referral-api")
        stack.wait_ready("referral-api")
    assert gateway.get("/api/v1/referrals", headers=headers).status_code == 200


def test_the_gateway_serves_the_platform_spec_that_is_checked_in(gateway):
    checked_in = json.loads((Path(__file__).parents[2] / "openapi" / "gateway.json").read_text())
    served = gateway.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == checked_in
