"""Forward an authenticated request to one of its service's replicas and stream the
answer back.

Bounded timeouts everywhere; a service that is down is 503, one that is too slow
is 504, one that answers garbage is 502 - each problem+json. A request is retried only
when the connection could not be made (so no replica can have acted on it), and only
when the retry rules say it would be safe to repeat (``retry_rules.py``); the retry goes
to another replica while there is one it has not tried (``replicas.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api_gateway.headers import client_response_headers, upstream_request_headers
from api_gateway.replicas import Lease, Replica, ReplicaPool
from api_gateway.retry_rules import may_retry
from api_gateway.upstream import UpstreamBroken, UpstreamClient, UpstreamConnectFailed, UpstreamTimedOut
from safeguarding_kit.problems import Problem
from safeguarding_kit.request_context import current_request_id

log = logging.getLogger(__name__)

WHOLE_BODY_BYTES = 256 * 1024  # answers up to this size (by Content-Length) are not streamed
# What may stay as it is in a path or query sent on (RFC 3986 pchar, plus "?" and "/" in
# a query); "%" is kept so what the caller percent-encoded stays encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


class PayloadTooLarge(Problem):
    """The request body is larger than the gateway accepts; nothing was sent on."""

    status, slug, title = 413, "payload-too-large", "Request body too large"


class UpstreamUnavailable(Problem):
    """The service behind this path is down or failing; retry after `Retry-After`."""

    status, slug, title = 503, "service-unavailable", "Service unavailable"


# Only operations that declare Idempotency-Key promise a safe retry; the gateway cannot
# tell which one this was, so it says when the promise holds.
TIMEOUT_RETRY_ADVICE = (
    "It may have acted on the request: retry with the same Idempotency-Key where the operation "
    "declares that header, and read the record before retrying any other write."
)


class UpstreamTimeout(Problem):
    """The service behind this path did not answer in time; a write may or may not have
    been made: retry it with the same `Idempotency-Key` where the operation declares that
    header, and read the record before retrying any other write."""

    status, slug, title = 504, "service-timeout", "Service did not answer in time"


class BadGateway(Problem):
    """The service behind this path gave an answer the gateway could not read."""

    status, slug, title = 502, "bad-gateway", "Bad answer from a service"


async def read_bounded_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refusing (413) anything over ``max_bytes`` before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"Request bodies are limited to {max_bytes} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Request bodies are limited to {max_bytes} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def upstream_target(request: Request) -> tuple[str, str]:
    """The path and query to send the service, as the caller encoded them: the raw path,
    not Starlette's decoded one (whose control characters and non-ASCII letters would make
    an invalid request line), with anything a request line may not hold percent-encoded."""
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    return quote(raw_path, safe=_PATH_SAFE), quote(query, safe=_QUERY_SAFE)


async def forward(
    request: Request,
    *,
    client: UpstreamClient,
    pool: ReplicaPool,
    max_body_bytes: int,
    retries: int,
    started: float,
    read_timeout: float | None = None,
) -> Response:
    """The answer of one of the service's replicas to ``request``, streamed back to the
    caller, with a ``Server-Timing`` header splitting the gateway's own time from the
    service's. A request the retry rules allow (``retry_rules.py``) that could not connect
    is tried again, on a replica it has not tried yet while there is one."""
    upstream = pool.upstream
    replica = pool.choose()
    if replica is None:
        raise _failing_fast(pool)
    try:
        body = await read_bounded_body(request, max_body_bytes)
    except BaseException:
        pool.abandoned(replica)  # chosen, never sent: no verdict on it
        raise
    path, query = upstream_target(request)
    headers = upstream_request_headers(
        request.headers.items(),
        request_id=current_request_id() or "",
        client_host=request.client.host if request.client else None,
    )
    attempts = 1 + (retries if may_retry(request.method, request.headers) else 0)
    tried: list[Replica] = []
    sent = time.perf_counter()
    for attempt in range(1, attempts + 1):
        if replica is None:
            replica = pool.choose(tried)
            if replica is None:
                raise _failing_fast(pool)
        tried.append(replica)
        lease = Lease(replica)
        try:
            answer = await client.send(
                request.method,
                replica.url + path,
                query=query,
                headers=headers,
                body=body,
                read_timeout=read_timeout,
            )
        except UpstreamConnectFailed as exc:
            # Nothing reached the replica: another may take the request, if it may be sent again.
            lease.release()
            pool.could_not_connect(replica)
            if attempt < attempts:
                replica = None
                continue
            log.warning("upstream unavailable", extra={"upstream": upstream.value})
            raise UpstreamUnavailable(
                f"The {upstream.value} service is unavailable; try again shortly."
            ) from exc
        except UpstreamTimedOut as exc:
            lease.release()
            pool.failed(replica)
            log.warning("upstream timeout", extra={"upstream": upstream.value})
            raise UpstreamTimeout(
                f"The {upstream.value} service did not answer in time. {TIMEOUT_RETRY_ADVICE}"
            ) from exc
        except UpstreamBroken as exc:
            # Reached, but no valid answer: as much a failure as no answer at all (and were this
            # the half-open trial, nothing else would let the next one through).
            lease.release()
            pool.failed(replica)
            log.warning("upstream protocol error", extra={"upstream": upstream.value})
            raise BadGateway(f"The {upstream.value} service gave no valid answer.") from exc
        except BaseException:
            lease.release()
            pool.abandoned(replica)  # cancelled mid-flight: neither success nor failure
            raise
        pool.answered(replica, answer.status)
        break

    upstream_ms = (time.perf_counter() - sent) * 1000
    gateway_ms = (time.perf_counter() - started) * 1000 - upstream_ms
    answer_headers = client_response_headers(answer.headers)
    answer_headers.append(("server-timing", f"gateway;dur={gateway_ms:.2f}, upstream;dur={upstream_ms:.2f}"))
    response: Response
    length = answer.content_length
    if length is not None and length <= WHOLE_BODY_BYTES:
        # Most answers are small JSON: read whole, sent in one go (cheaper than a stream).
        try:
            content = await answer.read()
        except UpstreamBroken as exc:
            raise BadGateway(f"The {upstream.value} service gave no valid answer.") from exc
        finally:
            lease.release()
            await answer.close()
        response = Response(content, status_code=answer.status)
    else:

        async def close() -> None:
            lease.release()
            await answer.close()

        response = StreamingResponse(
            _released_at_end(answer.body, lease), status_code=answer.status, background=BackgroundTask(close)
        )
    # Raw header pairs: repeated headers (Set-Cookie, Link...) survive as they came.
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer_headers]
    return response


async def _released_at_end(chunks: AsyncIterator[bytes], lease: Lease) -> AsyncIterator[bytes]:
    """The streamed answer, its replica's lease released when it ends however it ends (the
    caller may go away before the background close runs)."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        lease.release()


def _failing_fast(pool: ReplicaPool) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        f"The {pool.upstream.value} service is unavailable; try again shortly.",
        headers={"Retry-After": str(pool.retry_after())},
    )
