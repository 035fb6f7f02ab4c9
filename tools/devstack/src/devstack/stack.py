"""Start, watch and stop the four processes as real OS processes speaking HTTP.

Each process gets its own environment, built here, so a variable in the
developer's shell (say DATABASE_URL) cannot make two services share a database.

With ``replicas`` > 1 every process runs that many times (``referral-api``,
``referral-api-2``...; ports 10 apart by default: 8101, 8111...): every replica of a service
shares its database, which must then be PostgreSQL (a SQLite database is served by one
process), and every gateway spreads each route over all of a service's replicas and
counts rate limits in Redis, so that a client's budget is one however many gateways there
are. Replica n of a service sends its events to, and builds agendas from, replica n of the
others (in a cluster a Service's one address spreads them instead).

With ``separate_relays`` each service's outbox relay runs as a process of its own beside
each replica (``referral-api-relay``, ``referral-api-relay-2``...; ``python -m <service>
relay``, ports 1000 above the replica's by default), the replicas serving with
``EVENTS_RELAY_ENABLED=false``: the shape of a cluster's relay Deployments. That too needs
PostgreSQL (the relays share the outbox by its row locks).
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
from dataclasses import dataclass, field, replace
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

GATEWAY = "gateway"
SERVICE_KINDS = ("referral-api", "risk-api", "meetings-api")
# Replica n (from 2) of a process listens this far above the first one's port, times n - 1:
# the ports' last digits stay apart (8080, 8090 for gateways; 8101, 8111 for the referral service).
REPLICA_PORT_STEP = 10
# A relay process listens this far above the port of the replica it runs beside (9101...).
RELAY_PORT_STEP = 1000
SERVE = "serve"
RELAY = "relay"


class StackMisconfigured(ValueError):
    """The stack cannot run as configured (several replicas on SQLite, say); says why."""


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    module: str
    port: int
    migrations_dir: Path | None = None
    version_table: str | None = None
    database_file: str | None = None
    after_migrate: Callable[[str], None] | None = None
    replica: int = 1  # which replica of its kind: the first is named as the kind, the nth "<kind>-<n>"
    command: str = SERVE  # or RELAY: the service's outbox relay, named "<kind>-relay[-<n>]"

    @property
    def kind(self) -> str:
        """Which service or gateway the process is, or relays for (``referral-api``,
        ``gateway``), whichever replica."""
        name = self.name if self.replica == 1 else self.name.removesuffix(f"-{self.replica}")
        return name.removesuffix(f"-{RELAY}") if self.command == RELAY else name

    def relay(self, port: int) -> ServiceProcess:
        """The relay process beside this replica of a service, on ``port``."""
        suffix = "" if self.replica == 1 else f"-{self.replica}"
        return replace(self, name=f"{self.kind}-{RELAY}{suffix}", port=port, command=RELAY)


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
    # Settings of one process only, by its name (``referral-api-2``), over extra_env.
    process_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # How many of every process (each service and the gateway) run.
    replicas: int = 1
    # kind -> the ports of its replicas after the first (default: the first's + 10, + 20...).
    replica_ports: dict[str, list[int]] = field(default_factory=dict)
    # Where every gateway counts rate limits (async+redis://host:port): needed by several.
    rate_limit_storage_url: str | None = None
    # Each service's outbox relay as processes of their own, one beside each replica.
    separate_relays: bool = False
    # service kind -> the ports of its relays, one a replica (default: each replica's + 1000).
    relay_ports: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise StackMisconfigured("replicas: at least 1")
        on_sqlite = [s.name for s in self.services if not self.database_url(s).startswith("postgresql")]
        if self.separate_relays and on_sqlite:
            raise StackMisconfigured(
                "relays of their own share each service's outbox with it by its row locks, which needs "
                f"PostgreSQL: {', '.join(on_sqlite)} would be on SQLite (a SQLite database is served by one "
                "process, which relays itself); give a PostgreSQL server "
                "(make run: POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
            )
        if self.replicas == 1:
            return
        if on_sqlite:
            raise StackMisconfigured(
                f"{self.replicas} replicas of each service share its database, which must be PostgreSQL: "
                "a SQLite database is served by one process (it has no row locks for the outbox "
                f"relays to share the work by). {', '.join(on_sqlite)} would be on SQLite; give a "
                "PostgreSQL server (make run: POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
            )
        if not (self.rate_limit_storage_url or "").startswith(("async+redis://", "async+rediss://")):
            raise StackMisconfigured(
                f"{self.replicas} gateways counting rate limits each in its own memory would give every "
                "client that many budgets: give Redis (make run: REDIS_URL=redis://127.0.0.1:6379)"
            )

    @classmethod
    def on_free_ports(cls, data_dir: Path, *, replicas: int = 1, **kwargs: object) -> StackConfig:
        kinds = (GATEWAY, *SERVICE_KINDS)
        return cls(
            data_dir=data_dir,
            gateway_port=free_port(),
            referral_port=free_port(),
            risk_port=free_port(),
            meetings_port=free_port(),
            replicas=replicas,
            replica_ports={kind: [free_port() for _ in range(replicas - 1)] for kind in kinds},
            relay_ports={kind: [free_port() for _ in range(replicas)] for kind in SERVICE_KINDS},
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def services(self) -> list[ServiceProcess]:
        """Each service once (its first replica): what is migrated, and whose database."""
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
        """Every process the stack runs: each replica of each service, their relays when
        separate, then the gateways."""
        services = [replica for kind in self.services for replica in self.replicas_of(kind)]
        gateways = self.replicas_of(ServiceProcess(GATEWAY, "api_gateway", self.gateway_port))
        return [*services, *self.relays_of(services), *gateways]

    def relays_of(self, services: list[ServiceProcess]) -> list[ServiceProcess]:
        """The relay processes beside ``services`` (none unless relays are separate)."""
        if not self.separate_relays:
            return []
        relays = []
        for replica in services:
            ports = self.relay_ports.get(replica.kind)
            relays.append(
                replica.relay(ports[replica.replica - 1] if ports else replica.port + RELAY_PORT_STEP)
            )
        return relays

    def replicas_of(self, first: ServiceProcess) -> list[ServiceProcess]:
        """``first`` and, when there are replicas, the others of its kind on their ports."""
        ports = self.replica_ports.get(first.name) or [
            first.port + REPLICA_PORT_STEP * n for n in range(1, self.replicas)
        ]
        if len(ports) < self.replicas - 1:
            raise StackMisconfigured(f"{first.name}: {self.replicas} replicas but {len(ports) + 1} ports")
        return [
            first,
            *(
                replace(first, name=f"{first.name}-{n}", port=port, replica=n)
                for n, port in enumerate(ports[: self.replicas - 1], start=2)
            ),
        ]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def gateway_urls(self) -> list[str]:
        """Every gateway's address (one unless there are replicas)."""
        return self.urls_of(GATEWAY)

    def url_of(self, name: str) -> str:
        """The address of one process, by its name (``referral-api``, ``referral-api-2``)."""
        port = next(p.port for p in self.processes if p.name == name)
        return f"http://127.0.0.1:{port}"

    def urls_of(self, kind: str, command: str = SERVE) -> list[str]:
        """The addresses of every replica of ``kind`` (or, with ``command=RELAY``, of its relay
        processes), the first first."""
        ports = [p.port for p in self.processes if p.kind == kind and p.command == command]
        return [f"http://127.0.0.1:{port}" for port in ports]

    def peer_url(self, kind: str, replica: int) -> str:
        """The replica of ``kind`` that replica ``replica`` of another process talks to."""
        urls = self.urls_of(kind)
        return urls[(replica - 1) % len(urls)]

    def database_url(self, service: ServiceProcess) -> str:
        """The service's database, shared by its replicas."""
        if service.kind in self.database_urls:
            return self.database_urls[service.kind]
        return f"sqlite:///{(self.data_dir / str(service.database_file)).resolve()}"

    def subscribers(self, name: str, replica: int = 1) -> list[dict[str, object]]:
        """Who receives a service's events: a referral opens a screening in the risk
        service (links and break-glass grants open children's risk to agencies and people);
        a child's risk rising puts them on the next MACE agenda; a child's disposal reaches
        both (they remove or de-identify what they hold), and the meetings service hears of
        holds on record classes (its minutes); each assessment and level change reaches the
        referral service (a child's support records the level at its start and end; the
        child's chronology shows both), and so do the decisions and actions meetings record
        about a child.
        Replica n of a service delivers to replica n of the receiver (the same subscriber
        name, so one child's events to it stay in one lane, in order, whichever replica
        wrote them)."""
        routes = {
            "referral-api": [
                (
                    "risk-api",
                    ["referral.received", "child.agency_linked", "access.break_glass", "child.disposed"],
                ),
                ("meetings-api", ["child.disposed", "retention.hold_placed", "retention.hold_released"]),
            ],
            "risk-api": [
                ("meetings-api", ["risk.level_changed"]),
                ("referral-api", ["risk.assessed", "risk.level_changed"]),
            ],
            "meetings-api": [
                (
                    "referral-api",
                    [
                        "meeting.decision_recorded",
                        "meeting.action_agreed",
                        "meeting.action_closed",
                        "meeting.action_reopened",
                    ],
                )
            ],
        }
        return [
            {"name": target, "url": self.peer_url(target, replica) + "/internal/events", "types": types}
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
        # Where the services are: the gateway routes to them (every replica), the meetings
        # service builds agendas from the risk and referral services, and the referral service
        # assembles subject access packages from the risk and meetings services (on whichever
        # ports this stack uses).
        services = {"REFERRAL_API": "referral-api", "RISK_API": "risk-api", "MEETINGS_API": "meetings-api"}
        for variable, kind in services.items():
            if process.kind == GATEWAY and self.replicas > 1:
                env[f"{variable}_URLS"] = ",".join(self.urls_of(kind))
            else:
                env[f"{variable}_URL"] = self.peer_url(kind, process.replica)
        if process.kind == GATEWAY and self.rate_limit_storage_url:
            env["RATE_LIMIT_STORAGE_URL"] = self.rate_limit_storage_url
        if process.migrations_dir is not None:
            env["DATABASE_URL"] = self.database_url(process)
            env["EVENT_SUBSCRIBERS"] = json.dumps(self.subscribers(process.kind, process.replica))
            if self.separate_relays and process.command == SERVE:
                env["EVENTS_RELAY_ENABLED"] = "false"  # its relay process delivers
        env.update(self.extra_env)
        env.update(self.process_env.get(process.name, {}))
        return env


def prepare(config: StackConfig) -> None:
    """The data folder, the dev issuer's key pair, and every database migrated to head."""
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
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
            [sys.executable, "-m", process.module, process.command],
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
        for process in reversed(self.config.processes):  # the gateways first
            self.stop(process.name)

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
