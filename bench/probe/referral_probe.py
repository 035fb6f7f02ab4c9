"""The probe: the least a referral intake and a referral read can do on this machine, the
ceiling the platform's own paths are measured against in the same benchmark run.

- ``POST /api/v1/referrals``: an RS256 token checked with PyJWT against the dev issuer's
  public key (signature, ``iss``, ``aud``, ``exp``, the claims required), the body
  validated by a pydantic model of the referral the benchmarks send (unknown fields
  refused), then one transaction of two rows, the referral and its audit record, with
  SQLAlchemy's async engine; 201 with the referral.
- ``GET /api/v1/referrals/{id}``: the same token check, one select by primary key and one
  audit insert in one transaction; 200 with the referral, 404 if there is none.

No gateway, no idempotency, no hash chain, no outbox, no access rules: what is left is
what any referral intake must pay for. Started by the benchmarks (``bench/_harness.py``)
with uvicorn, uvloop and httptools, one worker, configured by the environment:

PROBE_DATABASE_URL      an async SQLAlchemy URL (postgresql+asyncpg://... or postgresql+psycopg://...)
PROBE_PUBLIC_KEY_FILE   the dev issuer's public key (PEM)
PROBE_ISSUER, PROBE_AUDIENCE   what ``iss`` and ``aud`` must be
PROBE_POOL_SIZE         database connections (default 20)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = MetaData()
referrals = Table(
    "probe_referrals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("agency", String(63), nullable=False),
    Column("submitted_by", String(255), nullable=False),
    Column("source_reference", String(100)),
    Column("child", JSON, nullable=False),
    Column("referrer", JSON, nullable=False),
    Column("concern_types", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("lawful_basis", JSON, nullable=False),
    Column("urgency", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
audit = Table(
    "probe_audit",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_sub", String(255), nullable=False),
    Column("actor_agency", String(63), nullable=False),
    Column("action", String(40), nullable=False),
    Column("resource_type", String(60), nullable=False),
    Column("resource_id", String(64), nullable=False),
)

Name = Annotated[str, Field(min_length=1, max_length=100)]


class Child(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: Name
    family_name: Name
    date_of_birth: date
    gender: Literal["female", "male", "non_binary", "other", "not_known"]
    ethnicity: str = Field("not_stated", max_length=60)
    school: str | None = Field(None, max_length=200)
    home_ward_code: str | None = Field(None, pattern=r"^[EW]05[0-9]{6}$")


class Referrer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None


class LawfulBasis(BaseModel):
    model_config = ConfigDict(extra="forbid")

    basis: Literal["consent", "safeguarding_without_consent"]
    reason: str | None = Field(None, max_length=2000)


Concern = Literal[
    "sexual_exploitation", "criminal_exploitation", "county_lines", "online_harm", "missing", "trafficking"
]


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source_reference: str | None = Field(None, max_length=100)
    child: Child
    referrer: Referrer
    concern_types: list[Concern] = Field(min_length=1, max_length=10)
    summary: str = Field(min_length=1, max_length=20_000)
    lawful_basis: LawfulBasis
    urgency: Literal["routine", "urgent", "immediate"] = "routine"


class Settings:
    def __init__(self) -> None:
        self.database_url = os.environ["PROBE_DATABASE_URL"]
        self.public_key = load_pem_public_key(Path(os.environ["PROBE_PUBLIC_KEY_FILE"]).read_bytes())
        self.issuer = os.environ["PROBE_ISSUER"]
        self.audience = os.environ["PROBE_AUDIENCE"]
        self.pool_size = int(os.environ.get("PROBE_POOL_SIZE", "20"))


settings = Settings()
engine: AsyncEngine = create_async_engine(
    settings.database_url, pool_size=settings.pool_size, max_overflow=0, pool_pre_ping=False
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


class Unauthorised(Exception):
    pass


@app.exception_handler(Unauthorised)
async def unauthorised(_request: Request, _exc: Unauthorised) -> JSONResponse:
    return JSONResponse({"title": "Unauthorised"}, status_code=401)


def caller(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """The token's claims: RS256 only, signature, iss, aud and exp checked, claims required."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorised
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.public_key,  # type: ignore[arg-type]  # an RSAPublicKey, as PyJWT accepts
            algorithms=["RS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=10,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorised from exc
    if not isinstance(claims.get("agency"), str) or not isinstance(claims.get("roles"), list):
        raise Unauthorised
    return claims


Caller = Annotated[dict[str, Any], Depends(caller)]


def audit_row(claims: dict[str, Any], action: str, referral_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "occurred_at": now,
        "actor_sub": claims["sub"],
        "actor_agency": claims["agency"],
        "action": action,
        "resource_type": "referral",
        "resource_id": str(referral_id),
    }


def answer(row: dict[str, Any], status_code: int) -> JSONResponse:
    body = {**row, "id": str(row["id"]), "received_at": row["received_at"].isoformat()}
    return JSONResponse(body, status_code=status_code)


@app.post("/api/v1/referrals", status_code=201)
async def create_referral(body: ReferralIn, claims: Caller) -> JSONResponse:
    if "referrer" not in claims["roles"]:
        return JSONResponse({"title": "Forbidden"}, status_code=403)
    now = datetime.now(UTC)
    row = {
        "id": uuid.uuid4(),
        "agency": claims["agency"],
        "submitted_by": claims["sub"],
        "source_reference": body.source_reference,
        "child": body.child.model_dump(mode="json"),
        "referrer": body.referrer.model_dump(mode="json"),
        "concern_types": list(body.concern_types),
        "summary": body.summary,
        "lawful_basis": body.lawful_basis.model_dump(mode="json"),
        "urgency": body.urgency,
        "status": "received",
        "received_at": now,
    }
    async with engine.begin() as conn:
        await conn.execute(insert(referrals), row)
        await conn.execute(insert(audit), audit_row(claims, "create", row["id"], now))
    return answer(row, 201)


@app.get("/api/v1/referrals/{referral_id}")
async def read_referral(referral_id: uuid.UUID, claims: Caller) -> JSONResponse:
    async with engine.begin() as conn:
        found = (await conn.execute(select(referrals).where(referrals.c.id == referral_id))).first()
        if found is None:
            return JSONResponse({"title": "Not found"}, status_code=404)
        await conn.execute(insert(audit), audit_row(claims, "read", referral_id, datetime.now(UTC)))
    return answer(dict(found._mapping), 200)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
