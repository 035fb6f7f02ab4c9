"""What every service's tests check of its operations that honour ``Idempotency-Key``,
written once: a partner system's retry gets the first answer and makes one record, the
same key with another request is 422 naming the key, another agency's key is its own,
and every POST or PUT of the spec either honours the key or says why a repeat is safe."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select

from safeguarding_kit.idempotency import HEADER, resolved, retry_safety

KEY = "8d1f0f5e-3c61-4f7a-b0a2-6b9e4c2d7a01"
MADE = (200, 201, 202)


@dataclass(frozen=True)
class Call:
    """One request: where it goes and its body (None for a POST without one)."""

    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Create:
    """An operation that creates: who calls it, another agency that may call it too,
    ``calls`` (given the test client and tokens, it prepares what the operation needs and
    gives one request and another request to send under the same key) and the table
    that holds one row per record it makes."""

    operation: str
    caller: Mapping[str, Any]
    other_agency: Mapping[str, Any]
    calls: Callable[[Any, Any], tuple[Call, Call]]
    records: Table


def record_count(client: Any, table: Table) -> int:
    """How many rows ``table`` holds, as the app under ``client`` sees them."""
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def post(client: Any, headers: Mapping[str, str], call: Call, key: str | None = KEY) -> Any:
    """``call`` sent with ``headers`` (a bearer token) and, unless None, ``key``."""
    sent = {**headers, **({HEADER: key} if key else {})}
    return (
        client.post(call.path, json=call.body, headers=sent)
        if call.body is not None
        else client.post(call.path, headers=sent)
    )


def check_retry_gets_the_first_answer(
    client: Any, bearer: Callable[[Mapping[str, Any]], Mapping[str, str]], create: Create
) -> None:
    """The same key and request twice: one record, and the same status, body, ETag and Location."""
    call, _ = create.calls(client, bearer)
    before = record_count(client, create.records)
    first = post(client, bearer(create.caller), call)
    retry = post(client, bearer(create.caller), call)
    assert first.status_code in MADE, first.text
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    for header in ("etag", "location"):
        assert retry.headers.get(header) == first.headers.get(header)
    assert record_count(client, create.records) == before + 1


def check_key_with_another_request_is_refused(
    client: Any, bearer: Callable[[Mapping[str, Any]], Mapping[str, str]], create: Create
) -> None:
    """The same key with another request: 422 naming the key and its header, nothing made."""
    call, other = create.calls(client, bearer)
    assert post(client, bearer(create.caller), call).status_code in MADE
    before = record_count(client, create.records)
    refused = post(client, bearer(create.caller), other)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("idempotency-key-reused")
    assert KEY in refused.json()["detail"]
    assert [(e["parameter"], e["location"]) for e in refused.json()["errors"]] == [(HEADER, "header")]
    assert record_count(client, create.records) == before


def check_each_agency_has_its_own_keys(
    client: Any, bearer: Callable[[Mapping[str, Any]], Mapping[str, str]], create: Create
) -> None:
    """Two agencies using one key: each request makes its own record (another agency's
    request under the key is neither the first answer again nor a reused key)."""
    call, other = create.calls(client, bearer)
    before = record_count(client, create.records)
    first = post(client, bearer(create.caller), call)
    other_agencys = post(client, bearer(create.other_agency), other)
    assert first.status_code in MADE, first.text
    assert other_agencys.status_code in MADE, other_agencys.text
    assert other_agencys.json() != first.json()
    assert record_count(client, create.records) == before + 2


def check_spec_says_how_each_write_is_retried(spec: Mapping[str, Any], creates: list[Create]) -> None:
    """Every POST and PUT honours the key or says why a repeat is safe; those that honour
    it are exactly ``creates`` (so each has its retry tested), and only they promise, in
    their 503 answer, a safe retry with the key."""
    safety = retry_safety(spec)
    assert sorted(op for op, why in safety.items() if not why) == []
    assert {op for op, why in safety.items() if why == HEADER} == {c.operation for c in creates}
    for item in spec["paths"].values():
        for operation in item.values():
            promise = "Idempotency-Key" in resolved(spec, operation["responses"]["503"])["description"]
            assert promise == (safety.get(operation["operationId"]) == HEADER), operation["operationId"]
