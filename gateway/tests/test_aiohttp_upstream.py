"""The hot-path client against real sockets: answers pass through untouched, redirects
are not followed, and each kind of failure is told apart as the gateway must answer it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api_gateway.upstream import (
    AiohttpUpstream,
    UpstreamBroken,
    UpstreamConnectFailed,
    UpstreamTimedOut,
)
from safeguarding_kit.testing import raw_tcp_service


def client() -> AiohttpUpstream:
    return AiohttpUpstream(connect_timeout=1.0, read_timeout=0.5, max_connections=10)


class Service(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"{self.path}|{self.headers.get('x-request-id')}".encode()
        self.send_response(200)
        self.send_header("Link", "<a>; rel=first")
        self.send_header("Link", "<b>; rel=next")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def http_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def fetch(base: str, path: str, query: str = "") -> tuple[int, list[tuple[str, str]], bytes]:
    upstream = client()
    try:
        answer = await upstream.send(
            "GET", base + path, query=query, headers=[("x-request-id", "req-1")], body=b""
        )
        body = b"".join([chunk async for chunk in answer.body])
        await answer.close()
        return answer.status, answer.headers, body
    finally:
        await upstream.aclose()


def test_an_answer_comes_back_as_the_service_gave_it():
    with http_service() as base:
        status, headers, body = asyncio.run(fetch(base, "/api/v1/referrals", "limit=1&cursor=a%2Fb"))
    assert status == 200
    assert body == b"/api/v1/referrals?limit=1&cursor=a%2Fb|req-1"  # query bytes untouched
    assert [v for k, v in headers if k.lower() == "link"] == ["<a>; rel=first", "<b>; rel=next"]


def test_a_redirect_is_passed_back_not_followed():
    with http_service() as base:
        status, headers, _ = asyncio.run(fetch(base, "/moved"))
    assert status == 302
    assert ("Location", "http://169.254.169.254/latest/meta-data/") in headers


def test_a_closed_port_is_a_failure_to_connect():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with pytest.raises(UpstreamConnectFailed):
        asyncio.run(fetch(f"http://127.0.0.1:{port}", "/"))


def test_a_service_that_never_answers_times_out():
    with raw_tcp_service(lambda conn: None) as base, pytest.raises(UpstreamTimedOut):
        asyncio.run(fetch(base, "/"))


def test_a_service_that_answers_garbage_is_a_broken_answer():
    def garbage(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"SPDY/9 what\r\n\r\n")
        conn.close()

    with raw_tcp_service(garbage) as base, pytest.raises(UpstreamBroken):
        asyncio.run(fetch(base, "/"))
