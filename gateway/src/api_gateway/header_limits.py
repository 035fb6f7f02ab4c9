"""How many request header fields, and how many bytes of them, the gateway takes.

Two places hold the line, both before a token is read, a request counted against a rate
limit, or anything sent to a service:

- :class:`HeaderLimits`, ASGI middleware in front of every route: more than
  ``MAX_HEADER_FIELDS`` fields, one field over ``MAX_HEADER_FIELD_BYTES`` or all of them
  over ``MAX_HEADER_BYTES`` (names and values) is 431 problem+json naming the limit.
- :class:`BoundedHttpToolsProtocol`, the HTTP server's parser: httptools (what uvicorn
  runs by default, and the faster of its two parsers) buffers a request's head however
  large it grows, where uvicorn's h11 parser stops at ``h11_max_incomplete_event_size``.
  This subclass honours that same setting with httptools: a head (request line and
  header fields) that passes it is answered 431 as it arrives, never buffered whole.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from safeguarding_kit.problems import (
    PROBLEM_JSON,
    PROBLEM_TYPE_BASE,
    Problem,
    ProblemDetails,
    problem_as_response,
)

log = logging.getLogger(__name__)

# After answering a head that was too large, what the client still sends is read and dropped
# for this long before the connection is closed, so that a client still writing its request
# reads the answer rather than a reset connection.
DRAIN_SECONDS = 2.0
FEWER_HEADERS = (
    "Send only the headers the API reads (Authorization, Content-Type, If-Match, Idempotency-Key, "
    "X-Request-ID)."
)


class RequestHeadersTooLarge(Problem):
    """The request has more header fields, or larger ones, than the gateway accepts
    (RFC 6585 §5); nothing was authenticated or sent on. `detail` names the limit: send
    fewer or smaller headers."""

    status, slug, title = 431, "request-headers-too-large", "Request header fields too large"


def _field_name(name: bytes) -> str:
    text = name.decode("latin-1")
    return text if len(text) <= 64 else text[:64] + "..."


class HeaderLimits:
    """Answers 431 problem+json for a request over the header limits; passes the rest on."""

    def __init__(self, app: ASGIApp, *, max_fields: int, max_bytes: int, max_field_bytes: int) -> None:
        self.app = app
        self.max_fields = max_fields
        self.max_bytes = max_bytes
        self.max_field_bytes = max_field_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.refusal(scope["headers"])
            if refused is not None:
                await problem_as_response(refused, instance=scope["path"])(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, headers: list[tuple[bytes, bytes]]) -> RequestHeadersTooLarge | None:
        """Why ``headers`` are refused, or None when they are within the limits."""
        if len(headers) > self.max_fields:
            return RequestHeadersTooLarge(
                f"The request has {len(headers)} header fields; the gateway accepts at most "
                f"{self.max_fields}. {FEWER_HEADERS}"
            )
        total = 0
        for name, value in headers:
            size = len(name) + len(value)
            if size > self.max_field_bytes:
                return RequestHeadersTooLarge(
                    f"The header field {_field_name(name)!r} is {size} bytes (name and value); one field "
                    f"may be at most {self.max_field_bytes} bytes. Shorten it or leave it out."
                )
            total += size
        if total > self.max_bytes:
            return RequestHeadersTooLarge(
                f"The request's header fields are {total} bytes in all (names and values); the gateway "
                f"accepts at most {self.max_bytes} bytes. {FEWER_HEADERS}"
            )
        return None


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 problem+json for a request head over
    ``config.h11_max_incomplete_event_size`` bytes (the limit uvicorn's h11 parser keeps)
    as soon as that many have arrived, instead of buffering it whole.

    Bytes are counted as they are fed to the parser while it reads a head; the count starts
    again after each request. Where one read from the socket holds the end of one request
    and the start of the next (pipelining), that start goes uncounted, so such a head is
    refused by the time it is the limit and one read long; its 431 follows the answers to
    the requests before it. The middleware (:class:`HeaderLimits`) applies the exact limits
    to whatever the parser lets through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = self.config.h11_max_incomplete_event_size
        if limit is None:
            raise ValueError("BoundedHttpToolsProtocol needs h11_max_incomplete_event_size")
        self.max_head_bytes: int = limit
        self.head_bytes: int | None = 0  # None while a body is read
        self.refused = False
        self.answer_owed = False  # refused behind a pipelined request still being answered

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # what the client sends after a refused head is dropped
        while self.head_bytes is not None and data:
            room = self.max_head_bytes - self.head_bytes
            if room <= 0:
                self.refuse()
                return
            piece, data = data[:room], data[room:]
            self.head_bytes += len(piece)
            super().data_received(piece)
            if self.transport.is_closing():
                return
        if self.head_bytes is not None and self.head_bytes >= self.max_head_bytes:
            self.refuse()
        elif data:
            super().data_received(data)

    def on_headers_complete(self) -> None:
        self.head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.head_bytes = 0  # what comes next is the next request's head
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.answer_owed and not self.answering() and not self.transport.is_closing():
            self.answer_owed = False
            self.answer_too_large()

    def answering(self) -> bool:
        """True while an answer to an earlier request is being made or waits its turn."""
        return bool(self.pipeline) or (self.cycle is not None and not self.cycle.response_complete)

    def refuse(self) -> None:
        """Stop parsing and answer 431 once the answers to earlier requests on the connection
        (pipelined) are sent; what still arrives is dropped."""
        self.refused = True
        log.warning("request head over %d bytes refused", self.max_head_bytes)
        if self.answering():
            self.answer_owed = True
        else:
            self.answer_too_large()

    def answer_too_large(self) -> None:
        """Send the 431, then drop what the client still sends for a while before closing."""
        self._unset_keepalive_if_required()
        request_id = str(uuid.uuid4())
        detail = (
            f"The request line and header fields are over {self.max_head_bytes} bytes; the gateway "
            f"reads no more of them. {FEWER_HEADERS}"
        )
        body = (
            ProblemDetails(
                type=PROBLEM_TYPE_BASE + RequestHeadersTooLarge.slug,
                title=RequestHeadersTooLarge.title,
                status=RequestHeadersTooLarge.status,
                detail=detail,
                request_id=request_id,
            )
            .model_dump_json(exclude_none=True)
            .encode()
        )
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"cache-control: no-store\r\n"
            b"x-content-type-options: nosniff\r\n"
            b"x-request-id: " + request_id.encode() + b"\r\n"
            b"connection: close\r\n\r\n"
        )
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(DRAIN_SECONDS, self.transport.close)
