"""Safe retries of a POST: the ``Idempotency-Key`` header (IETF draft
"The Idempotency-Key HTTP Header Field").

The first request with a key claims it (committed at once, so concurrent
requests see the claim); its answer is stored with the change it made, in the
same transaction. A retry with the same key and body gets that first answer
again; the same key with another body is 422; the same key while the first
request is still being served is 409. A claim whose request died is taken over
after ``stale_after``. Keys are scoped per agency and operation, so one agency's
key never answers another's request.

:func:`run_once` is the one mechanism; an operation that creates takes the
:data:`IdempotentCreate` dependency (which declares the header in its spec), and
one that is safe to repeat without a key says why with :func:`naturally_idempotent`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Update,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from safeguarding_kit.audit.service import send_with_audit_append
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import UtcDateTime, utc_now
from safeguarding_kit.problems import IDEMPOTENCY_KEY_HEADER, FieldError, Problem

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
MAX_KEY_LENGTH = 255
HEADER = IDEMPOTENCY_KEY_HEADER
# The spec extension naming why an operation that takes no Idempotency-Key is safe to repeat.
NATURALLY_IDEMPOTENT = "x-naturally-idempotent"
# The spec extension of a create whose first answer cannot be kept to replay (it shows a
# credential once and the platform keeps only its hash): what a repeat makes instead.
REPEAT_MAKES_ANOTHER = "x-repeat-makes-another"
# The headers of a first answer that its retries get again (the rest are per response).
REPLAYED_HEADERS = ("ETag", "Location")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=8,
        max_length=MAX_KEY_LENGTH,
        description="A key you make once per new record (a UUID is ideal) and send again with "
        "every retry of the same request. A retry with the same key and body gets the first "
        "answer again and changes nothing; the same key with another body is 422 "
        "(`idempotency-key-reused`); while the first request is still being served, 409 "
        "(`idempotent-request-in-flight`, with `Retry-After`). Keys are your agency's own: "
        "another agency's key never answers your request. Without a key, each request "
        "creates a record.",
        examples=["0b6c1f5e-8a53-4f7e-9d55-3c2a2f1e7a10"],
    ),
]

R = TypeVar("R", bound=JSONResponse)

# Why a repeat is safe, for the operations that need no key (said in their specs).
GUARDED_BY_IF_MATCH = (
    "It needs `If-Match` (428 without it): a repeat carries the ETag the first request made "
    "stale and is refused with 412, so the change is made once."
)


class IdempotencyKeyReused(Problem):
    """The `Idempotency-Key` was first sent with another request (another body, or another
    record in the path); nothing was changed. Use a new key for a new request."""

    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused with another request"


class IdempotentRequestInFlight(Problem):
    """The first request with this `Idempotency-Key` is still being served; retry after
    `Retry-After` seconds with the same key to get its answer."""

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
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_response(cls, response: JSONResponse) -> StoredResponse:
        """The answer a handler built, with the headers its retries must get too."""
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        return cls(status=response.status_code, body=json.loads(bytes(response.body)), headers=headers)

    def to_response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=dict(self.headers))


def naturally_idempotent(reason: str) -> dict[str, Any]:
    """``openapi_extra`` for a POST or PUT that takes no Idempotency-Key: ``reason`` says
    why repeating it is safe (a contract test holds every other one to the header)."""
    return {NATURALLY_IDEMPOTENT: reason}


def repeat_makes_another(reason: str) -> dict[str, Any]:
    """``openapi_extra`` for a create that cannot honour Idempotency-Key because its answer
    holds a secret shown once and never stored: ``reason`` says what a repeat makes and how
    the caller tidies it up."""
    return {REPEAT_MAKES_ANOTHER: reason}


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
        Column("response_headers", JSON),
        Column("resource_id", String(64), index=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


def agency_scope(agency: str, operation: str) -> str:
    """Where a key is unique: one agency's one operation (``POST /api/v1/referrals``)."""
    return f"{agency}:{operation}"


def request_fingerprint(payload: Any) -> str:
    """A hash of the request's meaning: the validated body as canonical JSON."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(row: Any) -> StoredResponse:
    return StoredResponse(
        status=row.response_status, body=row.response_body, headers=row.response_headers or {}
    )


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
    _claim_as_its_own_transaction(session)
    try:
        session.execute(
            insert(table),
            {
                "scope": scope,
                "key": key,
                "request_hash": request_hash,
                "state": IN_PROGRESS,
                "created_at": now,
                "updated_at": now,
            },
        )
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    row = session.execute(select(table).where(table.c.scope == scope, table.c.key == key)).one()
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key '{key}' was first used with a different request; nothing was "
            "changed. Send a new key for a new request, or the first body to get its answer again.",
            errors=[
                FieldError(detail="first used with another request", parameter=HEADER, location="header")
            ],
        )
    if row.state == COMPLETED:
        return _stored(row)
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
        f"A request with the Idempotency-Key '{key}' is still being processed. Retry in a moment "
        "with the same key to get its answer.",
        headers={"Retry-After": "1"},
    )


def _claim_as_its_own_transaction(session: Session) -> None:
    """On PostgreSQL, a session starting afresh on an engine (as every request's does)
    sends the claim in autocommit: the INSERT is then a transaction of its own, committed
    by the server as it runs, in one round trip where BEGIN, INSERT and COMMIT took three.
    A session already in a transaction, or bound to a connection (the tests' rolled-back
    one), claims in it as before; so does SQLite."""
    if session.in_transaction():
        return
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@functools.cache
def _complete_statement(table: Table) -> Update:
    # Built once per table, its values given at execution: no statement to build per request.
    # Its parameters are named apart from the audit log's columns, as it may be sent with
    # the audit append.
    return (
        update(table)
        .where(table.c.scope == bindparam("answer_scope"), table.c.key == bindparam("answer_key"))
        .values(
            state=COMPLETED,
            response_status=bindparam("answer_status"),
            response_body=bindparam("answer_body", type_=table.c.response_body.type),
            response_headers=bindparam("answer_headers", type_=table.c.response_headers.type),
            resource_id=bindparam("answer_resource_id"),
            updated_at=bindparam("answer_updated_at", type_=table.c.updated_at.type),
        )
    )


def complete_key(
    session: Session,
    table: Table,
    *,
    scope: str,
    key: str,
    answer: StoredResponse,
    resource_id: str | None = None,
) -> None:
    """Store the first answer, in the caller's transaction (it commits with the change): on
    PostgreSQL with the audit record the commit appends, when there is one, a round trip
    fewer (:func:`~safeguarding_kit.audit.service.send_with_audit_append`)."""
    send_with_audit_append(
        session,
        _complete_statement(table),
        {
            "answer_scope": scope,
            "answer_key": key,
            "answer_status": answer.status,
            "answer_body": answer.body,
            "answer_headers": dict(answer.headers),
            "answer_resource_id": resource_id,
            "answer_updated_at": utc_now(),
        },
    )


def release_key(session: Session, table: Table, *, scope: str, key: str) -> None:
    """Give up a claim whose request failed, so the key can be used again. Commits."""
    session.rollback()
    session.execute(
        delete(table).where(table.c.scope == scope, table.c.key == key, table.c.state == IN_PROGRESS)
    )
    session.commit()


def forget_answers_for(session: Session, table: Table, *, resource_id: str) -> None:
    """Drop the stored first answers that created ``resource_id`` (an answer that holds a
    secret must not outlive what it created). Does not commit."""
    session.execute(delete(table).where(table.c.resource_id == resource_id))


def stored_response_for(session: Session, table: Table, *, resource_id: str) -> StoredResponse | None:
    """The first answer that created ``resource_id``, if one was stored."""
    row = session.execute(
        select(table.c.response_status, table.c.response_body, table.c.response_headers).where(
            table.c.resource_id == resource_id, table.c.state == COMPLETED
        )
    ).first()
    return None if row is None else _stored(row)


class WorkCommitted(RuntimeError):
    """A programming error: the work given to :func:`run_once` ended the transaction
    itself, so its change could commit without its answer."""


def _created_id(answer: StoredResponse) -> str | None:
    """The id of the record an answer made, when its body names one."""
    if isinstance(answer.body, dict) and answer.body.get("id") is not None:
        return str(answer.body["id"])[:64]
    return None


def _in_one_transaction(session: Session, work: Callable[[], StoredResponse]) -> StoredResponse:
    """``work``'s answer, its change left for the caller to commit; :class:`WorkCommitted`
    if the work committed (or rolled back) by itself and yet answered."""
    transaction = session.get_transaction() or session.begin()
    answer = work()
    if session.get_transaction() is not transaction:
        raise WorkCommitted(
            "The work of an idempotent operation must not commit: run_once commits its "
            "change with its answer."
        )
    return answer


def run_once(
    session: Session,
    table: Table,
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    work: Callable[[], StoredResponse],
) -> StoredResponse:
    """``work``'s answer, made once per ``key`` in ``scope``: a retry with the same
    ``fingerprint`` gets the first answer again, another fingerprint is
    :class:`IdempotencyKeyReused` (422), a retry while the first runs is
    :class:`IdempotentRequestInFlight` (409 with Retry-After). ``work`` must not commit:
    its change and its answer commit here, together. When it raises, its change is rolled
    back and the key released, so the request can be retried. Without a key, ``work``
    runs and commits once, unprotected."""
    if key is None:
        answer = _in_one_transaction(session, work)
        session.commit()
        return answer
    stored = claim_key(session, table, scope=scope, key=key, request_hash=fingerprint)
    if stored is not None:
        return stored
    try:
        answer = _in_one_transaction(session, work)
        complete_key(session, table, scope=scope, key=key, answer=answer, resource_id=_created_id(answer))
        session.commit()
    except BaseException:
        # With the database gone the claim cannot be released now; it lapses after stale_after.
        with contextlib.suppress(SQLAlchemyError):
            release_key(session, table, scope=scope, key=key)
        raise
    return answer


@dataclass(frozen=True)
class OncePerKey:
    """One honouring operation's request: its key (if sent), where keys are unique and
    what else names its target (path parameters); :meth:`answer` runs it once."""

    table: Table
    operation: str
    key: str | None
    path_params: Mapping[str, str]

    def fingerprint(self, body: BaseModel | None) -> str:
        payload = body.model_dump(mode="json") if body is not None else None
        # The same body to another record (another place's links, say) is another request.
        return request_fingerprint(
            {"path": dict(self.path_params), "body": payload} if self.path_params else payload
        )

    def answer(
        self, session: Session, principal: Principal, body: BaseModel | None, work: Callable[[], R]
    ) -> R:
        """The response ``work`` makes, made once per key for the caller's agency (see
        :func:`run_once`): the first time, ``work``'s own response; for a retry, the same
        status, body, ``ETag`` and ``Location`` again (as a plain JSON response: the same
        bytes a client saw, whatever class first made them)."""
        made: list[R] = []

        def first_answer() -> StoredResponse:
            made.append(work())
            return StoredResponse.from_response(made[0])

        stored = run_once(
            session,
            self.table,
            scope=agency_scope(principal.agency, self.operation),
            key=self.key,
            fingerprint=self.fingerprint(body),
            work=first_answer,
        )
        return made[0] if made else cast(R, stored.to_response())


async def once_per_key(request: Request, key: IdempotencyKeyHeader = None) -> OncePerKey:
    """FastAPI dependency of an operation that honours ``Idempotency-Key``; the service's
    table is ``app.state.idempotency_keys``."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        raise TypeError("once_per_key is a dependency of API routes only")
    table: Table = request.app.state.idempotency_keys
    return OncePerKey(
        table=table,
        operation=f"{request.method} {route.path_format}",
        key=key,
        path_params={name: str(value) for name, value in request.path_params.items()},
    )


IdempotentCreate = Annotated[OncePerKey, Depends(once_per_key)]


def resolved(spec: Mapping[str, Any], item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A parameter or response of an operation, its ``$ref`` to the spec's components followed."""
    reference = item.get("$ref")
    if not isinstance(reference, str):
        return item
    found: Any = spec
    for part in reference.removeprefix("#/").split("/"):
        found = found[part]
    return cast(Mapping[str, Any], found)


def retry_safety(spec: Mapping[str, Any]) -> dict[str, str | None]:
    """For each POST and PUT of an OpenAPI ``spec`` (by operation id): ``HEADER`` when it
    honours ``Idempotency-Key``, the reason a repeat is safe when it is naturally
    idempotent, what a repeat makes when its answer cannot be replayed, or None when it
    says none of these (which the services' contract tests refuse)."""
    safety: dict[str, str | None] = {}
    for path_item in spec.get("paths", {}).values():
        for method in ("post", "put"):
            operation = path_item.get(method)
            if operation is None:
                continue
            parameters = [resolved(spec, p) for p in operation.get("parameters", [])]
            if any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
                safety[operation["operationId"]] = HEADER
            else:
                safety[operation["operationId"]] = operation.get(NATURALLY_IDEMPOTENT) or operation.get(
                    REPEAT_MAKES_ANOTHER
                )
    return safety
