"""OWASP API2:2023 Broken authentication: ways of presenting (or pretending to present)
an identity other than a signed bearer token, and tokens that try to bring their own key.

tests/e2e/test_jwt_attacks.py already sends forged and misissued tokens (alg none, HS256
with the public key, missing or wrong exp/iat/sub/aud/iss, expired, not yet valid,
unknown kid, another key, tampered payload, an issuer vouching for another agency type,
garbage) to the gateway and straight to each service, and checks none reaches a service.
This module adds what it does not: where the token is carried (query string, cookie,
Basic, other schemes), the scheme's case (RFC 7235: case-insensitive), identity headers
with no token, keys and key URLs offered in the token's own header (jwk, jku, x5u), kids
crafted as paths or SQL, overlong tokens, and claims that try to widen a role or an agency.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from safeguarding_kit.settings import DEFAULT_AUDIENCE, DEV_ISSUER

pytestmark = pytest.mark.e2e

SERVICE_PATHS = {
    "gateway": "/api/v1/referrals",
    "referral-api": "/api/v1/referrals",
    "risk-api": "/api/v1/risk/models",
    "meetings-api": "/api/v1/meetings/series",
}


def claims(**overrides: object) -> dict:
    now = int(time.time())
    body: dict = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "attacker@sheffield-schools",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "agency": "sheffield-social-care",
        "agency_type": "social_care",
        "roles": ["practitioner"],
    }
    body.update(overrides)
    return body


@pytest.fixture(params=sorted(SERVICE_PATHS))
def target(request, stack) -> str:
    """A protected URL at the gateway or straight at a service."""
    return stack.config.url_of(request.param) + SERVICE_PATHS[request.param]


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def token(stack_tokens) -> str:
    return stack_tokens(agency="sheffield-social-care", agency_type="social_care", roles=["practitioner"])


def assert_unauthenticated(problem, answer: httpx.Response) -> None:
    problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_in_the_query_string_is_not_accepted(http, target, token, problem):
    for name in ("access_token", "token", "jwt", "bearer"):
        assert_unauthenticated(problem, http.get(target, params={name: token}))


def test_a_token_in_a_cookie_is_not_accepted(http, target, token, problem):
    for name in ("access_token", "token", "session", "Authorization"):
        assert_unauthenticated(problem, http.get(target, headers={"Cookie": f"{name}={token}"}))


def test_basic_and_other_schemes_are_refused_even_around_a_valid_token(http, target, token, problem):
    basic = base64.b64encode(f"worker:{token}".encode()).decode()
    for value in (f"Basic {basic}", f"Token {token}", f"JWT {token}", token, f"Bearer{token}", "Bearer"):
        assert_unauthenticated(problem, http.get(target, headers={"Authorization": value}))


def test_the_bearer_scheme_is_matched_without_regard_to_case_as_rfc_7235_says(http, target, token):
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        answer = http.get(target, headers={"Authorization": f"{scheme} {token}"})
        assert answer.status_code == 200, f"{scheme}: {answer.status_code}"


def test_identity_headers_without_a_token_are_no_identity(http, target, problem):
    claimed = {
        "X-User": "manager@sheffield-social-care",
        "X-Agency": "sheffield-social-care",
        "X-Agency-Type": "social_care",
        "X-Roles": "manager,admin",
        "X-Principal": "admin",
        "X-Forwarded-User": "admin",
        "X-Auth-Request-User": "admin",
        "Remote-User": "admin",
    }
    assert_unauthenticated(problem, http.get(target, headers=claimed))


def test_identity_headers_beside_a_referrers_token_widen_nothing(http, stack, stack_tokens, problem):
    referrer = stack_tokens.headers(agency="sheffield-schools", agency_type="education", roles=["referrer"])
    widened = {**referrer, "X-Roles": "manager", "X-Agency-Type": "social_care", "X-Principal": "manager"}
    for base in (stack.config.gateway_url, stack.config.url_of("referral-api")):
        answer = http.get(base + "/api/v1/children", headers=widened)
        problem(answer, 403)


@pytest.fixture(scope="module")
def key_server() -> Iterator[tuple[str, list[str]]]:
    """A server on loopback that would hand out an attacker's keys; records every request."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"keys": []}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()


def test_keys_and_key_urls_offered_in_the_tokens_own_header_are_never_used(
    http, target, key_server, attacker_key, problem
):
    server_url, requests = key_server
    attacker = attacker_key
    jwk = json.loads(RSAAlgorithm.to_jwk(attacker.public_key()))
    body = claims(roles=["manager", "admin", "auditor"])
    for header in (
        {"kid": "dev-1", "jwk": jwk},
        {"kid": "attacker", "jwk": {**jwk, "kid": "attacker"}},
        {"kid": "dev-1", "jku": f"{server_url}/jwks.json"},
        {"kid": "attacker", "jku": f"{server_url}/jwks.json"},
        {"kid": "attacker", "x5u": f"{server_url}/cert.pem"},
    ):
        forged = jwt.encode(body, attacker, algorithm="RS256", headers=header)
        answer = http.get(target, headers={"Authorization": f"Bearer {forged}"})
        assert_unauthenticated(problem, answer)
    assert requests == [], "a key URL named in a token was fetched"


def test_a_kid_crafted_as_a_path_or_a_query_never_picks_the_key(http, target, attacker_key, problem):
    # Signed by the attacker: were the kid read as a file name or a query, the attacker's
    # own key (or an empty one) might be what the signature is checked with.
    attacker = attacker_key
    for kid in ("../../../../../dev/null", "/etc/passwd", "' OR '1'='1' --", "dev-1\x00", "*", ""):
        forged = jwt.encode(claims(), attacker, algorithm="RS256", headers={"kid": kid})
        assert_unauthenticated(problem, http.get(target, headers={"Authorization": f"Bearer {forged}"}))


def test_an_overlong_token_is_refused_as_unauthenticated_not_as_a_server_error(http, target, problem):
    # Under the gateway's one-field cap (MAX_HEADER_FIELD_BYTES, 8 KiB) the token is read and
    # refused; a service reached directly reads any length and refuses it the same way.
    answer = http.get(target, headers={"Authorization": "Bearer " + "a" * 8_000})
    assert_unauthenticated(problem, answer)


def test_a_service_reached_directly_refuses_a_token_of_any_length_as_unauthenticated(http, stack, problem):
    for service in sorted(set(SERVICE_PATHS) - {"gateway"}):
        for length in (9_000, 40_000):
            answer = http.get(
                stack.config.url_of(service) + SERVICE_PATHS[service],
                headers={"Authorization": "Bearer " + "a" * length},
            )
            assert_unauthenticated(problem, answer)


def test_a_token_over_the_gateways_header_cap_is_refused_before_it_is_read(http, stack, problem):
    gateway = stack.config.url_of("gateway") + SERVICE_PATHS["gateway"]
    # Over one field's cap: the answer names the field. Far over: the server stops reading
    # the request's head at all (it never holds a huge header) and says so.
    for length, says in ((9_000, "'authorization'"), (40_000, "the gateway reads no more")):
        answer = http.get(gateway, headers={"Authorization": "Bearer " + "a" * length})
        body = problem(answer, 431)
        assert body["type"].endswith(":request-headers-too-large")
        assert says in body["detail"]


@pytest.mark.parametrize(
    "roles", [["ADMIN"], ["Admin"], [" admin"], ["admin "], ["administrator"], "admin,manager"], ids=repr
)
def test_roles_are_exact_names_so_a_look_alike_grants_nothing(http, stack, roles, problem):
    dev_key = (Path(stack.config.data_dir) / "dev-issuer" / "private.pem").read_bytes()
    token = jwt.encode(claims(roles=roles), dev_key, algorithm="RS256", headers={"kid": "dev-1"})
    answer = http.post(
        stack.config.gateway_url + "/api/v1/webhooks/referral-service/endpoints",
        headers={"Authorization": f"Bearer {token}"},
        json={"url": "https://93.184.216.34/hooks", "event_types": ["referral.received"]},
        timeout=15,
    )
    problem(answer, 403)


@pytest.mark.parametrize(
    "agency",
    [
        "sheffield-schools' OR '1'='1",
        "../south-yorkshire-police",
        "Sheffield-Schools",
        "a",
        "x" * 80,
        ["police"],
    ],
    ids=repr,
)
def test_an_agency_claim_that_is_not_a_plain_slug_is_refused(http, target, stack, agency, problem):
    dev_key = (Path(stack.config.data_dir) / "dev-issuer" / "private.pem").read_bytes()
    token = jwt.encode(claims(agency=agency), dev_key, algorithm="RS256", headers={"kid": "dev-1"})
    assert_unauthenticated(problem, http.get(target, headers={"Authorization": f"Bearer {token}"}))
