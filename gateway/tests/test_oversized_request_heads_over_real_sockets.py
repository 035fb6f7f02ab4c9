"""An outside tester's attempts on the gateway's request headers, against the real process
(``python -m api_gateway serve``: uvicorn with httptools, as deployed) in front of a
service that records whatever reaches it and would take any number of headers of any size.

Before the gateway capped them, a 20 MB header was read whole and sent on, and 5,000
headers reached the service. Now both are 431 problem+json and nothing is sent on; the
20 MB header is answered once the gateway has read its first few kilobytes, not after it
has buffered the rest.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

from safeguarding_kit.testing import serving

PROBLEM = "application/problem+json"
TOO_LARGE = "urn:safeguarding:problem:request-headers-too-large"
MIB = 1024 * 1024
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass
class RecordingService:
    """Stands in for all three services: records each request that reaches it (path,
    number of header fields, their bytes) and answers 200."""

    url: str = ""
    requests: list[tuple[str, int, int]] = field(default_factory=list)

    def reached(self) -> list[tuple[str, int, int]]:
        return [r for r in self.requests if r[0].startswith("/api/")]


@pytest.fixture(scope="module")
def service() -> Iterator[RecordingService]:
    recording = RecordingService()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            size = sum(len(name) + len(value) for name, value in self.headers.items())
            recording.requests.append((self.path, len(self.headers), size))
            body = b'{"items": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def log_message(self, format: str, *args: object) -> None:
            pass

    # Python's HTTP server refuses over 100 header fields or a 64 KiB line itself: lifted
    # here, so that what the gateway lets through is what this service records.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(http.client, "_MAXHEADERS", 100_000)
        patch.setattr(http.client, "_MAXLINE", 64 * MIB)
        with serving(Handler) as recording.url:
            yield recording


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Gateway:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture(scope="module")
def gateway(
    service: RecordingService, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    port = free_port()
    log = tmp_path_factory.mktemp("gateway-log") / "gateway.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "test",
        "LOG_JSON": "false",
        "REFERRAL_API_URL": service.url,
        "RISK_API_URL": service.url,
        "MEETINGS_API_URL": service.url,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "api_gateway", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    running = Gateway("127.0.0.1", port)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(running.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start:\n" + log.read_text()
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def refused_as_too_large(answer: httpx.Response) -> dict[str, object]:
    assert answer.status_code == 431, answer.text[:500]
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, object] = answer.json()
    assert problem["type"] == TOO_LARGE
    assert problem["status"] == 431
    assert problem["request_id"] == answer.headers["x-request-id"]
    return problem


def read_until_closed(sock: socket.socket) -> bytes:
    """What the gateway sends until it closes the connection (or 10 s pass)."""
    sock.settimeout(10)
    received = b""
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                break
            received += piece
    except OSError:  # timed out, or reset after the answer
        pass
    return received


def test_a_20_mb_header_is_refused_with_431_before_the_token_is_even_read(gateway, service, tokens):
    before = len(service.reached())
    token = tokens()
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /api/v1/referrals HTTP/1.1\r\nHost: gateway\r\nX-Padding: ")
        sock.sendall(b"a" * (64 * 1024))  # the first 64 KiB of the 20 MB value
        # The gateway answers now, with the header, and the token after it, still unsent.
        sock.settimeout(10)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 431 "), first[:200]
        try:  # the rest is read and dropped, or the connection is gone: either way not kept
            for _ in range(20 * 16 - 1):
                sock.sendall(b"a" * (64 * 1024))
            sock.sendall(f"\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        except OSError:
            pass
        rest = read_until_closed(sock)
    head, _, body = (first + rest).partition(b"\r\n\r\n")
    fields = dict(line.split(": ", 1) for line in head.decode("latin-1").lower().split("\r\n")[1:])
    assert fields["content-type"] == PROBLEM
    problem = json.loads(body)
    assert problem["type"] == TOO_LARGE
    assert problem["detail"].startswith("The request line and header fields are over 24978 bytes;")
    assert problem["request_id"] == fields["x-request-id"]
    assert len(service.reached()) == before  # nothing was sent on


def test_5000_headers_never_reach_a_service(gateway, service, tokens):
    before = len(service.reached())
    headers = [(f"x-header-{n}", "1") for n in range(5000)] + list(tokens.headers().items())
    problem = refused_as_too_large(httpx.get(gateway.url + "/api/v1/referrals", headers=headers, timeout=10))
    # Some 90 KB: the server stopped reading at its limit on a request's head.
    assert str(problem["detail"]).startswith("The request line and header fields are over 24978 bytes;")
    assert len(service.reached()) == before


def test_a_thousand_empty_headers_few_bytes_in_all_are_refused_for_their_number(gateway, service, tokens):
    # Six bytes a line, some 7 KB in all: under every byte limit, over the number of fields.
    before = len(service.reached())
    names = [a + b for a in DIGITS for b in DIGITS][:1000]
    headers = [(name, "") for name in names] + list(tokens.headers().items())
    problem = refused_as_too_large(httpx.get(gateway.url + "/api/v1/referrals", headers=headers, timeout=10))
    assert str(problem["detail"]).startswith(
        "The request has 1006 header fields; the gateway accepts at most 100."
    )
    assert len(service.reached()) == before


def test_a_header_value_too_large_for_one_field_is_refused_naming_it(gateway, service, tokens):
    before = len(service.reached())
    headers = {**tokens.headers(), "X-Tracking": "t" * 9000}
    problem = refused_as_too_large(httpx.get(gateway.url + "/api/v1/referrals", headers=headers, timeout=10))
    assert "'x-tracking' is 9010 bytes" in str(problem["detail"])
    assert len(service.reached()) == before


def test_heads_near_the_limits_are_served_one_after_another_on_one_connection(gateway, service, tokens):
    # 90 fields of 150 bytes each: 13.5 KB of headers, under 16 KiB, every time; the count of a
    # head's bytes starts again with each request on a kept-alive connection.
    before = len(service.reached())
    headers = {**tokens.headers(), **{f"x-near-{n:02}": "v" * 140 for n in range(90)}}
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        answers = [client.get("/api/v1/referrals", headers=headers) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    arrived = service.reached()[before:]
    assert len(arrived) == 5
    assert all(count > 90 and size > 13_500 for _, count, size in arrived)


def test_a_large_body_is_not_taken_for_a_large_head(gateway, service, tokens):
    body = b'{"summary": "' + b"x" * (512 * 1024) + b'"}'
    answer = httpx.post(
        gateway.url + "/api/v1/referrals",
        content=body,
        headers={**tokens.headers(), "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:300]


def test_a_head_too_large_behind_pipelined_requests_is_answered_after_them_in_order(gateway, service, tokens):
    before = len(service.reached())
    request = f"GET /api/v1/referrals HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {tokens()}\r\n\r\n"
    too_large = (
        "GET /api/v1/referrals HTTP/1.1\r\nHost: gateway\r\nX-Padding: " + "a" * (100 * 1024) + "\r\n\r\n"
    )
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall((request * 2 + too_large).encode())
        answers = read_until_closed(sock)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answers) == [b"200", b"200", b"431"]
    assert answers.endswith(b"}")  # the 431's problem+json, whole
    assert len(service.reached()) == before + 2
