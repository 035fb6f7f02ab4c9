"""Faults under load, through the real processes on a PostgreSQL cluster of this script's own.

Referrals are posted through the gateway at a steady rate, each with its own
Idempotency-Key, while the referral service is killed (SIGKILL, as a crash) and started
again, stopped (SIGTERM) and started again, and PostgreSQL is stopped (pg_ctl stop -m
fast) and started again. Every answer is recorded. Then every request not answered 201 is
retried with its Idempotency-Key and body until it is, and the script checks:

- every referral answered 201 exists (GET through the gateway) with one creation audit
  record, one ``referral.received`` event, and the audit chain intact;
- every Idempotency-Key ends with exactly one referral, the one its answers named, and
  the database holds no other referral and no child without one.

Prints the counts and exits 1 if any of these fails. Bounded: one to two minutes; a
request that dies with the service or the database can leave its key claimed, answering
409 to retries until the claim goes stale (60 s), and the retries wait for that.

    .venv/bin/python bench/faults_under_load.py [--rate 25] [--down-seconds 4]

The machine's shared PostgreSQL is never touched: the cluster is made with initdb in a
temporary folder on a free port (as the postgres user when run as root) and removed after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType

import httpx
from sqlalchemy import create_engine, text

from devstack.stack import Stack, StackConfig, free_port, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICES = ("referral-api", "risk-api", "meetings-api")
REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
REQUEST_TIMEOUT = 10.0  # seconds a client waits for an answer before counting none
# A claim left by a request that died is taken over after 60 s (safeguarding_kit.idempotency).
CLAIM_STALE_SECONDS = 60.0
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b")

GIVEN = ["Amelia", "Olivia", "Isla", "Mia", "Ruby", "Freya", "Noah", "Leo", "Jack", "Kai", "Tyler", "Theo"]
FAMILY = ["Smith", "Jones", "Patel", "Khan", "Okafor", "Nowak", "Murphy", "Hughes", "Walker", "Begum"]
CONCERNS = ["sexual_exploitation", "criminal_exploitation", "county_lines", "online_harm", "missing"]


# --- A PostgreSQL cluster of our own ---------------------------------------------------------


class ThrowawayCluster:
    """initdb, start, stop and remove a PostgreSQL cluster in ``root``. initdb refuses to
    run as root, so under root every PostgreSQL binary runs as the ``postgres`` user."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.log = root / "postgres.log"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg(self, tool: str, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self._as_postgres, str(PG_BIN / tool), *args],
            check=check,
            capture_output=True,
            timeout=60,
        )

    def create(self) -> None:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


@contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A running cluster, stopped and deleted on the way out, whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    cluster = ThrowawayCluster(root)
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def running_platform(cluster: ThrowawayCluster, workdir: Path) -> Iterator[Stack]:
    """The gateway and the three services on their own databases in ``cluster``."""
    urls = {name: cluster.create_database(name.replace("-", "_")) for name in SERVICES}
    config = StackConfig.on_free_ports(
        workdir,
        database_urls=urls,
        log_dir=workdir / "logs",
        extra_env={
            "RATE_LIMIT_READS": "100000000/minute",
            "RATE_LIMIT_WRITES": "100000000/minute",
            "UPSTREAM_TIMEOUT_SECONDS": "5",
            "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1",
        },
    )
    prepare(config)
    stack = Stack(config)
    try:
        stack.start_all()
        stack.wait_all_ready(timeout=60)
        yield stack
    finally:
        stack.stop_all()


# --- Referrals and what became of them ---------------------------------------------------------


def referral_body(n: int, run: str) -> dict[str, object]:
    """A plausible referral about child number ``n`` of this run (aged 10 to 17)."""
    born = date.today() - timedelta(days=3700 + (n * 389) % 2500)
    return {
        "child": {
            "given_name": GIVEN[n % len(GIVEN)],
            "family_name": f"{FAMILY[(n // len(GIVEN)) % len(FAMILY)]}",
            "date_of_birth": born.isoformat(),
            "gender": "female" if n % 2 else "male",
            "school": "Hillsborough Academy",
        },
        "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
        "concern_types": [CONCERNS[n % len(CONCERNS)]],
        "summary": f"Seen getting into cars with older males after school (faults run {run}, #{n}).",
        "lawful_basis": {"basis": "consent"},
        "urgency": "urgent",
    }


@dataclass
class Attempt:
    """One referral: its key and body, its first answer, and any retries'."""

    key: str
    body: bytes
    phase: str
    first: str = ""  # "201", another status, or "no answer (<error>)"
    final: str = ""
    referral_id: str | None = None
    retries: int = 0
    retry_answers: list[str] = field(default_factory=list)
    ids_answered: set[str] = field(default_factory=set)

    @property
    def acknowledged(self) -> bool:
        return self.final == "201"


async def post_referral(client: httpx.AsyncClient, token: str, attempt: Attempt) -> str:
    """POST the referral once; the outcome as a short label ("201", "503", "no answer (...)")."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": attempt.key,
    }
    try:
        answer = await client.post("/api/v1/referrals", content=attempt.body, headers=headers)
    except httpx.HTTPError as exc:
        outcome = f"no answer ({type(exc).__name__})"
    else:
        outcome = str(answer.status_code)
        if answer.status_code == 201:
            attempt.referral_id = answer.json()["id"]
            attempt.ids_answered.add(attempt.referral_id)
    attempt.final = outcome
    return outcome


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Fault:
    at: float  # seconds after the load starts
    name: str
    down: Callable[[], None]
    up: Callable[[], None]


class LoadRun:
    """A steady stream of referrals, and the faults on a schedule while it runs."""

    def __init__(self, stack: Stack, token: str, rate: float, run: str) -> None:
        self.stack, self.token, self.rate, self.run = stack, token, rate, run
        self.phase = "steady"
        self.attempts: list[Attempt] = []
        self.timeline: list[str] = []
        self.started = 0.0

    def note(self, what: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:6.1f} s  {what}")

    async def inject(self, fault: Fault, down_seconds: float) -> None:
        await asyncio.sleep(max(0.0, self.started + fault.at - time.monotonic()))
        self.phase = fault.name
        self.note(f"{fault.name}: down")
        await asyncio.to_thread(fault.down)
        await asyncio.sleep(down_seconds)
        self.phase = f"{fault.name}: restarting"
        self.note(f"{fault.name}: starting again")
        await asyncio.to_thread(fault.up)
        self.note(f"{fault.name}: up")
        self.phase = "steady"

    async def send(self, client: httpx.AsyncClient, seconds: float, faults: list[Fault], down: float) -> None:
        self.started = time.monotonic()
        injecting = asyncio.gather(*(self.inject(f, down) for f in faults))
        in_flight: set[asyncio.Task[str]] = set()
        for n in range(int(seconds * self.rate)):
            await asyncio.sleep(max(0.0, self.started + n / self.rate - time.monotonic()))
            body = json.dumps(referral_body(n, self.run)).encode()
            attempt = Attempt(key=f"faults-{self.run}-{n:05d}", body=body, phase=self.phase)
            self.attempts.append(attempt)
            task = asyncio.create_task(post_referral(client, self.token, attempt))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await injecting
        await asyncio.gather(*in_flight)
        for attempt in self.attempts:
            attempt.first = attempt.final
        self.note(f"load stopped: {len(self.attempts)} referrals sent")

    async def retry_unacknowledged(self, client: httpx.AsyncClient, deadline: float) -> None:
        """Resend each referral not answered 201, same key and body, until it is or time runs out.
        A claim whose request died with the service answers 409 until it goes stale."""
        self.note("retrying the unacknowledged")
        while time.monotonic() < deadline:
            pending = [a for a in self.attempts if not a.acknowledged]
            if not pending:
                break
            outcomes = await gather_limited([post_referral(client, self.token, a) for a in pending], limit=8)
            for attempt, outcome in zip(pending, outcomes, strict=True):
                attempt.retries += 1
                attempt.retry_answers.append(outcome)
            if all(a.acknowledged for a in pending):
                break
            await asyncio.sleep(2.0)
        self.note("retries done")


async def gather_limited(jobs: list[Awaitable[str]], limit: int) -> list[str]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[str]) -> str:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


# --- Checks ----------------------------------------------------------------------------------


@dataclass
class Findings:
    missing_by_get: list[str]
    not_in_database: list[str]
    keys_without_referral: list[str]
    id_mismatches: list[str]
    referrals_in_database: int
    duplicates: int
    children_without_referral: int
    missing_audit: list[str]
    doubled_audit: list[str]
    missing_events: list[str]
    log_lines_with_values: int
    chain: dict[str, object]
    stored_by_first_attempt: int

    @property
    def ok(self) -> bool:
        return not (
            self.missing_by_get
            or self.not_in_database
            or self.keys_without_referral
            or self.id_mismatches
            or self.duplicates
            or self.children_without_referral
            or self.missing_audit
            or self.doubled_audit
            or self.missing_events
            or self.log_lines_with_values
            or not self.chain.get("ok")
        )


def log_lines_with_values(logs: Path, run: str) -> int:
    """Log lines holding what a request carried (the README: logs never hold child data)."""
    marks = ("[parameters:", "'given_name'", f"faults run {run}")
    return sum(
        1
        for log in logs.glob("*.log")
        for line in log.read_text(errors="replace").splitlines()
        if any(mark in line for mark in marks)
    )


async def check(run: LoadRun, client: httpx.AsyncClient, auditor: str, retries_from: datetime) -> Findings:
    """Every acknowledged referral readable and stored once with its audit record and event;
    every key tied to exactly one referral; nothing else stored; nothing private logged."""
    config = run.stack.config
    acknowledged = [a for a in run.attempts if a.acknowledged and a.referral_id]
    ids = {a.referral_id for a in acknowledged if a.referral_id}

    async def readable(referral_id: str) -> str:
        answer = await client.get(
            f"/api/v1/referrals/{referral_id}", headers={"Authorization": f"Bearer {run.token}"}
        )
        return "" if answer.status_code == 200 else referral_id

    missing_by_get = [r for r in await gather_limited([readable(i) for i in sorted(ids)], limit=8) if r]
    chain = (
        await client.get(
            "/api/v1/audit/referral-service/verification", headers={"Authorization": f"Bearer {auditor}"}
        )
    ).json()

    engine = create_engine(config.database_urls["referral-api"])
    with engine.connect() as conn:
        stored = {
            str(row.id): row.received_at
            for row in conn.execute(text("SELECT id, received_at FROM referrals")).all()
        }
        keys = {
            row.key: row.resource_id
            for row in conn.execute(
                text("SELECT key, resource_id FROM idempotency_keys WHERE state = 'completed'")
            ).all()
        }
        children = conn.scalar(text("SELECT count(*) FROM children")) or 0
        audit = Counter(
            row.resource_id
            for row in conn.execute(
                text(
                    "SELECT resource_id FROM audit_log WHERE action = 'create' AND resource_type = 'referral'"
                )
            ).all()
        )
        events = Counter(
            row.referral_id
            for row in conn.execute(
                text(
                    "SELECT data->>'referral_id' AS referral_id FROM outbox_events "
                    "WHERE type = 'referral.received'"
                )
            ).all()
        )
    engine.dispose()

    # Each key answered with one referral id, and that is the one its key stored.
    id_mismatches = [
        a.key for a in acknowledged if len(a.ids_answered) != 1 or keys.get(a.key) != a.referral_id
    ]
    return Findings(
        missing_by_get=missing_by_get,
        not_in_database=sorted(ids - set(stored)),
        keys_without_referral=[a.key for a in run.attempts if keys.get(a.key) not in stored],
        id_mismatches=id_mismatches,
        referrals_in_database=len(stored),
        duplicates=len(set(stored) - set(keys.values())),
        children_without_referral=max(0, int(children) - len(stored)),
        missing_audit=sorted(i for i in stored if audit[i] == 0),
        doubled_audit=sorted(i for i in stored if audit[i] > 1),
        missing_events=sorted(i for i in stored if events[i] != 1),
        log_lines_with_values=log_lines_with_values(log_dir(run.stack), run.run),
        chain=chain,
        stored_by_first_attempt=sum(
            1
            for a in run.attempts
            if a.first != "201"
            and a.acknowledged
            and stored.get(str(a.referral_id), retries_from) < retries_from
        ),
    )


def log_dir(stack: Stack) -> Path:
    assert stack.config.log_dir is not None
    return stack.config.log_dir


def unhandled_errors(log: Path) -> Counter[str]:
    """The exceptions a service answered with a bare 500, by type and first words, from its log."""
    errors: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == "unhandled error" and record.get("exc_info"):
            raised = [ln for ln in str(record["exc_info"]).splitlines() if EXCEPTION_LINE.match(ln)]
            errors[raised[-1][:120] if raised else "?"] += 1
    return errors


def report(run: LoadRun, findings: Findings, args: argparse.Namespace, errors: Counter[str]) -> None:
    attempts = run.attempts
    first = Counter(a.first for a in attempts)
    refused = {k: v for k, v in sorted(first.items()) if k != "201" and not k.startswith("no answer")}
    no_answer = {k: v for k, v in first.items() if k.startswith("no answer")}
    retried = [a for a in attempts if a.retries]
    print(
        f"Faults under load: {args.rate:g} referrals/s for {args.seconds:g} s through the gateway, "
        f"each fault {args.down_seconds:g} s (PostgreSQL cluster of this run's own)"
    )
    for line in run.timeline:
        print(f"  {line}")
    print(f"  sent                     {len(attempts)}")
    print(f"  201 first time           {first['201']}")
    print(f"  refused by status        {', '.join(f'{k}: {v}' for k, v in refused.items()) or 'none'}")
    print(
        f"  no answer                {sum(no_answer.values())} {dict(no_answer) if no_answer else ''}".rstrip()
    )
    print(
        f"  retried                  {len(retried)} ({sum(a.retries for a in retried)} requests; "
        f"{findings.stored_by_first_attempt} had been stored by their first attempt)"
    )
    print(f"  retried -> 201           {sum(1 for a in retried if a.acknowledged)}")
    retry_answers = Counter(o for a in retried for o in a.retry_answers)
    print(f"  retry answers            {', '.join(f'{k}: {v}' for k, v in sorted(retry_answers.items()))}")
    stranded = [a for a in retried if "409" in a.retry_answers]
    if stranded:
        print(
            f"  stranded claims          {len(stranded)} key(s) answered 409 until their claim went stale "
            f"({CLAIM_STALE_SECONDS:.0f} s): first sent in "
            + "; ".join(f"{a.phase} (first answer {a.first})" for a in stranded[:4])
            + ("; ..." if len(stranded) > 4 else "")
        )
    print(f"  never acknowledged       {sum(1 for a in attempts if not a.acknowledged)}")
    print(
        f"  final referrals          {findings.referrals_in_database} in the database for "
        f"{len({a.key for a in attempts})} distinct Idempotency-Keys"
    )
    missing = (
        set(findings.missing_by_get) | set(findings.not_in_database) | set(findings.keys_without_referral)
    )
    print(
        f"  missing                  {len(missing)} (GET {len(findings.missing_by_get)}, database "
        f"{len(findings.not_in_database)}, keys without a referral {len(findings.keys_without_referral)})"
    )
    print(
        f"  duplicates               {findings.duplicates} (ids answered differently for one key: "
        f"{len(findings.id_mismatches)}; children without a referral: {findings.children_without_referral})"
    )
    print(
        f"  missing audit records    {len(findings.missing_audit)} (doubled {len(findings.doubled_audit)}); "
        f"audit chain {'intact' if findings.chain.get('ok') else 'BROKEN'}, {findings.chain.get('checked')} records"
    )
    print(f"  referral.received events missing or doubled: {len(findings.missing_events)}")
    print(
        f"  log lines holding request values (names, statements' parameters): {findings.log_lines_with_values}"
    )
    phases: dict[str, Counter[str]] = {}
    for a in attempts:
        phases.setdefault(a.phase, Counter())[a.first] += 1
    print("  first answers by phase:")
    for phase, outcomes in phases.items():
        print(f"    {phase:<48} {', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items()))}")
    if errors:
        print("  the referral service's unhandled errors (its log):")
        for error, count in errors.most_common(8):
            print(f"    {count:>4} x {error}")
    print(f"  invariants               {'all hold' if findings.ok else 'FAILED'}")


def fault_schedule(stack: Stack, cluster: ThrowawayCluster, down_seconds: float) -> list[Fault]:
    """The crash first, so the claims it strands go stale soonest; each fault followed by
    time to start again and settle."""

    def restart_referral_service() -> None:
        stack.start("referral-api")
        stack.wait_ready("referral-api", timeout=60)

    gap = down_seconds + 5
    return [
        Fault(3, "referral-api killed (SIGKILL)", lambda: stack.kill("referral-api"), restart_referral_service),
        Fault(3 + gap, "referral-api stopped (SIGTERM)", lambda: stack.stop("referral-api"), restart_referral_service),
        Fault(3 + 2 * gap, "PostgreSQL stopped (pg_ctl -m fast)", cluster.stop, cluster.start),
    ]  # fmt: skip


async def exercise(stack: Stack, cluster: ThrowawayCluster, args: argparse.Namespace) -> int:
    """The load with its faults, the retries, the checks and the report; 0 when all hold."""
    issuer = stack.config.data_dir / "dev-issuer"
    token = mint_dev_token(issuer, **REFERRER)  # type: ignore[arg-type]
    auditor = mint_dev_token(issuer, **AUDITOR)  # type: ignore[arg-type]
    run = LoadRun(stack, token, args.rate, uuid.uuid4().hex[:8])
    faults = fault_schedule(stack, cluster, args.down_seconds)
    args.seconds = max(args.seconds, faults[-1].at + args.down_seconds + 6)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=stack.config.gateway_url, timeout=REQUEST_TIMEOUT, limits=limits
    ) as client:
        await run.send(client, args.seconds, faults, args.down_seconds)
        retries_from = datetime.now(UTC)
        # Long enough for the last fault's stranded claims to go stale and be taken over.
        deadline = run.started + faults[-1].at + args.down_seconds + CLAIM_STALE_SECONDS + 15
        await run.retry_unacknowledged(client, max(deadline, time.monotonic() + 10))
        findings = await check(run, client, auditor, retries_from)
    report(run, findings, args, unhandled_errors(log_dir(stack) / "referral-api.log"))
    return 0 if findings.ok and all(a.acknowledged for a in run.attempts) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=25.0, help="referrals per second (default 25)")
    parser.add_argument(
        "--down-seconds", type=float, default=4.0, help="how long each fault lasts (default 4)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="load time (default: just past the last fault)"
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs into this folder at the end")
    args = parser.parse_args(argv)
    if not (PG_BIN / "initdb").exists():
        print(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through the clean-ups below

    signal.signal(signal.SIGTERM, stop)
    with ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        cluster = cleanup.enter_context(throwaway_cluster())
        if args.keep_logs:
            cleanup.callback(shutil.copytree, workdir / "logs", args.keep_logs, dirs_exist_ok=True)
        stack = cleanup.enter_context(running_platform(cluster, workdir))
        status = asyncio.run(exercise(stack, cluster, args))
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything started has been stopped and removed by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
