"""`make run` and `make token` as a newcomer uses them: ``python -m devstack run`` (what
`make run` calls) migrates, starts the four processes, loads demo data and prints the
gateway URL and a dev token; Ctrl-C stops every process; a process that dies is reported
and the others are stopped. ``python -m devstack token`` prints a token and nothing else.

Each run here uses its own data folder and free ports, so it never meets a `make run`
the developer has going."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt
import pytest

from devstack.stack import free_port

pytestmark = pytest.mark.e2e

START_TIMEOUT = 90.0
PORT_NAMES = ("gateway", "referral", "risk", "meetings")


@dataclass
class Supervisor:
    """A running ``python -m devstack run`` and what it has printed so far."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    printed: list[str] = field(default_factory=list)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def read_until(self, predicate: object, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.printed.append(line)
            if callable(predicate) and predicate(line):
                return line
        raise AssertionError("not printed in time; printed so far:\n" + "".join(self.printed))

    def rest_of_output(self, timeout: float) -> str:
        self.process.wait(timeout)
        time.sleep(0.2)  # let the reader thread drain the pipe
        while not self.lines.empty():
            self.printed.append(self.lines.get_nowait())
        return "".join(self.printed)


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _child_pid(module: str, port: int) -> int:
    """The pid of the process serving ``module`` on ``port`` (read from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in cmdline and f"PORT={port}".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no {module} process on port {port}")


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    ports = {name: free_port() for name in PORT_NAMES}
    args = [f"--{name}-port={port}" for name, port in ports.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "run", "--data-dir", str(tmp_path / "data"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    running = Supervisor(process, ports)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def make_token(data_dir: Path, *, agency: str, agency_type: str, roles: str) -> str:
    """What `make token AGENCY=.. TYPE=.. ROLES=..` prints."""
    options = ["--agency", agency, "--type", agency_type, "--roles", roles]
    printed = subprocess.run(
        [sys.executable, "-m", "devstack", "token", "--data-dir", str(data_dir), *options],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return printed


def test_make_run_brings_up_the_platform_with_demo_data_and_a_token_and_ctrl_c_stops_it(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    supervisor.read_until(lambda line: "Safeguarding platform is up" in line, START_TIMEOUT)
    assert supervisor.gateway_url in supervisor.printed[-1]
    token = supervisor.read_until(lambda line: line.startswith("eyJ"), 10).strip()

    with httpx.Client(base_url=supervisor.gateway_url, timeout=10) as gateway:
        assert gateway.get("/readyz").status_code == 200
        listed = gateway.get("/api/v1/referrals", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"], "the demo referrals are there"

        # `make token` prints one line: the token, for a school's referrer.
        printed = make_token(
            tmp_path / "data", agency="sheffield-schools", agency_type="education", roles="referrer"
        )
        assert printed.count("\n") == 1
        school_token = printed.strip()
        claims = jwt.decode(school_token, options={"verify_signature": False})
        assert (claims["agency"], claims["agency_type"], claims["roles"]) == (
            "sheffield-schools",
            "education",
            ["referrer"],
        )
        own = gateway.get("/api/v1/referrals", headers={"Authorization": f"Bearer {school_token}"})
        assert own.status_code == 200, own.text

    os.killpg(supervisor.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    output = supervisor.rest_of_output(timeout=30)
    assert supervisor.process.returncode == 0, output
    assert all(_port_is_closed(port) for port in supervisor.ports.values()), output


def test_a_process_that_dies_is_reported_and_the_others_are_stopped(supervisor: Supervisor) -> None:
    supervisor.read_until(lambda line: line.startswith("eyJ"), START_TIMEOUT)
    os.kill(_child_pid("referral_api", supervisor.ports["referral"]), signal.SIGKILL)

    output = supervisor.rest_of_output(timeout=30)
    assert supervisor.process.returncode == 1, output
    assert "referral-api exited with code -9" in output
    assert all(_port_is_closed(port) for port in supervisor.ports.values()), output
