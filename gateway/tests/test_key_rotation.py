"""Key rotation at an agency's identity provider, seen by a running gateway.

The identity provider is a real HTTP server on a local port serving its JWKS; the
gateway fetches it over HTTP as it would in production. A key it rotates in is
accepted without a restart, a key it removes stops working once the cache lifetime
passes, an outage after warm-up does not lock anyone out, and a flood of made-up
``kid``s does not turn into a flood of fetches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream
from safeguarding_kit.auth.dev_issuer import mint_token
from safeguarding_kit.settings import IssuerConfig

ISSUER = "https://login.south-yorkshire-police.example"  # bound to the force in the demo agreement
CACHE_SECONDS = 1.0
REFETCH_FLOOR_SECONDS = 0.3


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeIdentityProvider:
    """Serves ``/jwks`` from whatever keys it holds now; counts the fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"2026-11": new_key()}
        self.up = True
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                if not provider.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"keys": provider.public_jwks()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def public_jwks(self) -> list[dict[str, str]]:
        jwks = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update(kid=kid, alg="RS256", use="sig")
            jwks.append(jwk)
        return jwks

    def token(self, kid: str, key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        signing_key = key or self.keys[kid]
        pem = signing_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        token = mint_token(
            pem, sub="pc-1234", agency="south-yorkshire-police", agency_type="police", roles=["referrer"],
            issuer=ISSUER, kid=kid,
        )  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    yield provider
    provider.stop()


@contextmanager
def gateway_for(
    idp: FakeIdentityProvider, data_dir: Path, refetch_floor: float = REFETCH_FLOOR_SECONDS
) -> Iterator[TestClient]:
    settings = GatewaySettings(
        data_dir=data_dir,
        environment="test",
        log_json=False,
        dev_issuer_enabled=False,
        trusted_issuers=[IssuerConfig(issuer=ISSUER, jwks_url=idp.jwks_url)],
        jwks_cache_seconds=CACHE_SECONDS,
        jwks_min_refetch_seconds=refetch_floor,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.upstream_client = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"items": []}))
        )
        app.state.upstream = HttpxUpstream(app.state.upstream_client)
        yield client


@pytest.fixture
def gateway(idp: FakeIdentityProvider, data_dir: Path) -> Iterator[TestClient]:
    with gateway_for(idp, data_dir) as client:
        yield client


def status(gateway: TestClient, headers: dict[str, str]) -> int:
    return gateway.get("/api/v1/referrals", headers=headers).status_code


def test_a_key_rotated_in_at_the_issuer_is_accepted_without_a_restart(idp, gateway):
    assert status(gateway, idp.token("2026-11")) == 200
    idp.keys["2026-12"] = new_key()
    time.sleep(REFETCH_FLOOR_SECONDS)  # the refetch floor since the warm-up fetch

    assert status(gateway, idp.token("2026-12")) == 200
    assert status(gateway, idp.token("2026-11")) == 200


def test_a_key_removed_at_the_issuer_stops_working_once_the_cache_lifetime_passes(idp, gateway):
    assert status(gateway, idp.token("2026-11")) == 200
    retired = idp.keys.pop("2026-11")
    idp.keys["2026-12"] = new_key()
    assert status(gateway, idp.token("2026-11", key=retired)) == 200  # still cached

    time.sleep(CACHE_SECONDS + 0.1)

    refused = gateway.get("/api/v1/referrals", headers=idp.token("2026-11", key=retired))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert status(gateway, idp.token("2026-12")) == 200


def test_an_issuer_that_goes_down_after_warm_up_does_not_stop_valid_tokens(idp, gateway):
    assert status(gateway, idp.token("2026-11")) == 200
    idp.up = False
    time.sleep(CACHE_SECONDS + 0.1)  # the cache is stale and the refresh fails

    assert status(gateway, idp.token("2026-11")) == 200
    assert idp.fetches >= 2  # it did try


def test_a_flood_of_made_up_kids_does_not_hammer_the_issuer(idp, data_dir):
    forger = new_key()
    with gateway_for(idp, data_dir, refetch_floor=60) as gateway:
        assert status(gateway, idp.token("2026-11")) == 200
        answers = {status(gateway, idp.token(f"forged-{n}", key=forger)) for n in range(40)}

    assert answers == {401}
    # Forty unknown kids within a minute of the warm-up fetch: not one more fetch.
    assert idp.fetches == 1
