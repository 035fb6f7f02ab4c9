"""Start, watch and stop the four processes as real OS processes speaking HTTP.

Each process gets its own environment, built here, so a variable in the
developer's shell (say DATABASE_URL) cannot make two services share a database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from meetings_api.database import MIGRATIONS_DIR as MEETINGS_MIGRATIONS
from meetings_api.database import VERSION_TABLE as MEETINGS_VERSIONS
from referral_api.database import MIGRATIONS_DIR as REFERRAL_MIGRATIONS
from referral_api.database import VERSION_TABLE as REFERRAL_VERSIONS
from risk_api.database import MIGRATIONS_DIR as RISK_MIGRATIONS
from risk_api.database import VERSION_TABLE as RISK_VERSIONS
from risk_api.reference_data import install_reference_data
from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.settings import DEMO_AGREEMENT


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    module: str
    port: int
    migrations_dir: Path | None = None
    version_table: str | None = None
    database_file: str | None = None
    after_migrate: Callable[[str], None] | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackConfig:
    """Where the stack keeps its data and which ports it listens on."""

    data_dir: Path
    gateway_port: int = 8080
    referral_port: int = 8101
    risk_port: int = 8102
    meetings_port: int = 8103
    # service name -> database URL; a service not named uses SQLite under data_dir.
    database_urls: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    log_json: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, data_dir: Path, **kwargs: object) -> StackConfig:
        return cls(
            data_dir=data_dir,
            gateway_port=free_port(),
            referral_port=free_port(),
            risk_port=free_port(),
            meetings_port=free_port(),
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def services(self) -> list[ServiceProcess]:
        return [
            ServiceProcess(
                "referral-api",
                "referral_api",
                self.referral_port,
                REFERRAL_MIGRATIONS,
                REFERRAL_VERSIONS,
                "referral.db",
            ),
            ServiceProcess(
                "risk-api",
                "risk_api",
                self.risk_port,
                RISK_MIGRATIONS,
                RISK_VERSIONS,
                "risk.db",
                install_reference_data,
            ),
            ServiceProcess(
                "meetings-api",
                "meetings_api",
                self.meetings_port,
                MEETINGS_MIGRATIONS,
                MEETINGS_VERSIONS,
                "meetings.db",
            ),
        ]

    @property
    def processes(self) -> list[ServiceProcess]:
        return [*self.services, ServiceProcess("gateway", "api_gateway", self.gateway_port)]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def url_of(self, name: str) -> str:
        port = next(p.port for p in self.processes if p.name == name)
        return f"http://127.0.0.1:{port}"

    def database_url(self, service: ServiceProcess) -> str:
        if service.name in self.database_urls:
            return self.database_urls[service.name]
        return f"sqlite:///{(self.data_dir / str(service.database_file)).resolve()}"

    def subscribers(self, name: str) -> list[dict[str, object]]:
        """Who receives a service's events: a referral opens a screening in the risk
        service (links and break-glass grants open children's risk to agencies and people);
        a child's risk rising puts them on the next MACE agenda."""
        routes = {
            "referral-api": [
                ("risk-api", ["referral.received", "child.agency_linked", "access.break_glass"])
            ],
            "risk-api": [("meetings-api", ["risk.level_changed"])],
        }
        return [
            {"name": target, "url": self.url_of(target) + "/internal/events", "types": types}
            for target, types in routes.get(name, [])
        ]

    def environment(self, process: ServiceProcess) -> dict[str, str]:
        """The whole environment of one process: PATH and friends, then its own settings."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV", "PYTHONPATH", "SYSTEMROOT")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            ENVIRONMENT="development",
            HOST="127.0.0.1",
            PORT=str(process.port),
            DATA_DIR=str(self.data_dir.resolve()),
            # The demonstration agreement unless the caller names another (extra_env).
            PARTNERSHIP_AGREEMENT_FILE=str(DEMO_AGREEMENT.resolve()),
            LOG_JSON="true" if self.log_json else "false",
            PYTHONUNBUFFERED="1",
        )
        # Where the services are: the gateway routes to them, and the meetings service builds
        # agendas from the risk and referral services (on whichever ports this stack uses).
        env.update(
            REFERRAL_API_URL=self.url_of("referral-api"),
            RISK_API_URL=self.url_of("risk-api"),
            MEETINGS_API_URL=self.url_of("meetings-api"),
        )
        if process.migrations_dir is not None:
            env["DATABASE_URL"] = self.database_url(process)
            env["EVENT_SUBSCRIBERS"] = json.dumps(self.subscribers(process.name))
        env.update(self.extra_env)
        return env


def prepare(config: StackConfig) -> None:
    """The data folder, the dev issuer's key pair, and every database migrated to head."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_dev_key_pair(config.data_dir / "dev-issuer")
    for service in config.services:
        assert service.migrations_dir is not None
        assert service.version_table is not None
        upgrade_to_head(service.migrations_dir, config.database_url(service), service.version_table)
        if service.after_migrate is not None:
            service.after_migrate(config.database_url(service))


class Stack:
    """The four processes, started and stopped as a unit or one by one."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    def start(self, name: str) -> None:
        process = next(p for p in self.config.processes if p.name == name)
        stdout: IO[bytes] | None = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            stdout = open(self.config.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
            self._logs[name] = stdout
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", process.module, "serve"],
            env=self.config.environment(process),
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout else None,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops each child cleanly
        )

    def start_all(self) -> None:
        for process in self.config.processes:
            self.start(process.name)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()

    def kill(self, name: str) -> None:
        """SIGKILL ``name``: no shutdown, no flushing - as a crash or an OOM kill would."""
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()

    def stop_all(self) -> None:
        for name in ["gateway", *[s.name for s in self.config.services]]:
            self.stop(name)

    def exited(self) -> dict[str, int]:
        """Processes that have died on their own, with their exit codes."""
        return {name: code for name, proc in self.procs.items() if (code := proc.poll()) is not None}

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        """Block until ``name`` answers ``/readyz`` with 200, or raise TimeoutError."""
        url = self.config.url_of(name) + "/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if name in self.exited():
                raise RuntimeError(f"{name} exited with code {self.procs[name].returncode} while starting")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} was not ready within {timeout:.0f} s")

    def wait_all_ready(self, timeout: float = 60.0) -> None:
        for process in self.config.processes:
            self.wait_ready(process.name, timeout)

    def __enter__(self) -> Stack:
        self.start_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
