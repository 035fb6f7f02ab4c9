"""Safe retries of a POST: the ``Idempotency-Key`` header (IETF draft
"The Idempotency-Key HTTP Header Field").

The first request with a key claims it (committed at once, so concurrent
requests see the claim); its answer is stored with the change it made, in the
same transaction. A retry with the same key and body gets that first answer
again; the same key with another body is 422; the same key while the first
request is still being served is 409. A claim whose request died is taken over
after ``stale_after``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguarding_kit.db import UtcDateTime, utc_now
from safeguarding_kit.problems import Problem

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused with another request"


class IdempotentRequestInFlight(Problem):
    status, slug, title = (
        409,
        "idempotent-request-in-flight",
        "The first request with this key is still running",
    )


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to a request, to be sent again to its retries."""

    status: int
    body: Any


def idempotency_table(metadata: MetaData) -> Table:
    """The table of claimed keys, on the service's own metadata (and migrations)."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(200), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("state", String(20), nullable=False),
        Column("response_status", Integer),
        Column("response_body", JSON),
        Column("resource_id", String(64), index=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def request_fingerprint(payload: Any) -> str:
    """A hash of the request's meaning: the validated body as canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim_key(
    session: Session,
    table: Table,
    *,
    scope: str,
    key: str,
    request_hash: str,
    stale_after: timedelta = timedelta(seconds=60),
    now: datetime | None = None,
) -> StoredResponse | None:
    """Claim ``key`` for this request (None: go ahead and do the work), or the stored
    first answer to replay. Raises 422 for another body, 409 while the first runs.
    Commits the claim; call it before any other work in the session."""
    now = now or utc_now()
    try:
        session.execute(
            insert(table).values(
                scope=scope,
                key=key,
                request_hash=request_hash,
                state=IN_PROGRESS,
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    row = session.execute(select(table).where(table.c.scope == scope, table.c.key == key)).one()
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was first used with a different request body. "
            "Use a new key for a new request."
        )
    if row.state == COMPLETED:
        return StoredResponse(status=row.response_status, body=row.response_body)
    if now - row.updated_at > stale_after:
        # The first request died without answering: take its claim over, once.
        taken = session.execute(
            update(table)
            .where(
                table.c.scope == scope,
                table.c.key == key,
                table.c.state == IN_PROGRESS,
                table.c.updated_at == row.updated_at,
            )
            .values(updated_at=now)
        )
        session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
    raise IdempotentRequestInFlight(
        "A request with this Idempotency-Key is still being processed. Retry in a moment to get its answer.",
        headers={"Retry-After": "1"},
    )


def complete_key(
    session: Session,
    table: Table,
    *,
    scope: str,
    key: str,
    status: int,
    body: Any,
    resource_id: str | None = None,
) -> None:
    """Store the first answer, in the caller's transaction (it commits with the change)."""
    session.execute(
        update(table)
        .where(table.c.scope == scope, table.c.key == key)
        .values(
            state=COMPLETED,
            response_status=status,
            response_body=body,
            resource_id=resource_id,
            updated_at=utc_now(),
        )
    )


def release_key(session: Session, table: Table, *, scope: str, key: str) -> None:
    """Give up a claim whose request failed, so the key can be used again. Commits."""
    session.rollback()
    session.execute(
        delete(table).where(table.c.scope == scope, table.c.key == key, table.c.state == IN_PROGRESS)
    )
    session.commit()


def stored_response_for(session: Session, table: Table, *, resource_id: str) -> StoredResponse | None:
    """The first answer that created ``resource_id``, if one was stored."""
    row = session.execute(
        select(table.c.response_status, table.c.response_body).where(
            table.c.resource_id == resource_id, table.c.state == COMPLETED
        )
    ).first()
    return None if row is None else StoredResponse(status=row.response_status, body=row.response_body)
