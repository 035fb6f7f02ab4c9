"""The local development issuer: a key pair generated on first run under the data
folder (git-ignored, never committed) and a way to mint tokens with it.

Only for `make run`, `make token` and the tests; production settings refuse it.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from safeguarding_kit.settings import DEFAULT_AUDIENCE, DEV_ISSUER

DEV_KID = "dev-1"


def _write_once(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` atomically unless it exists: processes starting together agree."""
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process got there first
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def ensure_dev_key_pair(directory: Path) -> Path:
    """The dev issuer's private key file, generating the pair if it is missing."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = directory / "private.pem"
    public_path = directory / "public.pem"
    if not private_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_once(private_path, private, 0o600)
    if not public_path.exists():
        loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        public = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _write_once(public_path, public, 0o644)
    return private_path


def mint_token(
    private_key_pem: bytes,
    *,
    sub: str,
    agency: str,
    agency_type: str,
    roles: Iterable[str],
    issuer: str = DEV_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    lifetime_seconds: int = 8 * 3600,
    kid: str = DEV_KID,
    now: float | None = None,
) -> str:
    """An RS256 token as an agency's identity provider would issue it."""
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime_seconds,
        "jti": str(uuid.uuid4()),
        "agency": agency,
        "agency_type": agency_type,
        "roles": list(roles),
    }
    return jwt.encode(claims, private_key_pem, algorithm="RS256", headers={"kid": kid})


def mint_dev_token(
    directory: Path, *, agency: str, agency_type: str, roles: Iterable[str], sub: str | None = None
) -> str:
    """A token from the dev issuer whose key pair lives in ``directory``."""
    private = ensure_dev_key_pair(directory).read_bytes()
    return mint_token(
        private,
        sub=sub or f"dev-user@{agency}",
        agency=agency,
        agency_type=agency_type,
        roles=roles,
    )
