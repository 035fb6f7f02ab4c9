"""What the load benchmarks share: the platform on PostgreSQL (`running_platform`), the
probe service they are measured against in the same run (`running_probe`, the app in
`bench/probe/`), wrk runs and their answers (`run_wrk`, `WrkRun`, the Lua collector), and
the CPU each process spends (`CpuMeter`).

Imported by the scripts beside it (`bench/referrals.py`, `bench/reads.py`), which run as
``python bench/<script>.py`` and so find this module on their own path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devstack.stack import Stack, StackConfig, free_port, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token
from safeguarding_kit.db import normalise_url
from safeguarding_kit.settings import DEFAULT_AUDIENCE, DEV_ISSUER
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

SERVICES = ("referral-api", "risk-api", "meetings-api")
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROBE_DIR = Path(__file__).resolve().parent / "probe"
PROBE_DRIVERS = ("asyncpg", "psycopg")
# A school's referrer (sends referrals) and the hub's social care team (reads every case,
# assesses risk, coordinates meetings), both of the demonstration agreement.
REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "risk_assessor", "meeting_coordinator"],
}

# What every benchmark's wrk script ends with: counts answers by status (in ``statuses``),
# keeps the source_reference of each 201 (``created``), sums Server-Timing's upstream
# time, and has done() write it all, with the latency percentiles, to ``answers_path``
# for run_wrk() to read. The script before it defines request(), ``answers_path`` and sets
# ``sent`` up (sent = sent + 1 in request()).
LUA_COLLECT = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

sent, statuses, created, timed, upstream_ms = 0, {}, {}, 0, 0

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    created[#created + 1] = body:match('"source_reference":"([^"]+)"')
  end
  local timing = headers["server-timing"] or headers["Server-Timing"]
  local upstream = timing and timing:match("upstream;dur=([%d.]+)")
  if upstream then
    timed, upstream_ms = timed + 1, upstream_ms + tonumber(upstream)
  end
end

function done(summary, latency, requests)
  local out = io.open(answers_path, "w")
  for _, thread in ipairs(threads) do
    out:write(string.format("sent %d\\n", thread:get("sent")))
    for status, count in pairs(thread:get("statuses")) do
      out:write(string.format("status %d %d\\n", status, count))
    end
    for _, ref in ipairs(thread:get("created")) do
      out:write("created ", ref, "\\n")
    end
    out:write(string.format("upstream %d %f\\n", thread:get("timed"), thread:get("upstream_ms")))
  end
  local e = summary.errors
  out:write(string.format("summary %d %d %d %d %d %d\\n", summary.duration, summary.requests,
    e.connect, e.read, e.write, e.timeout))
  for _, p in ipairs({50, 95, 99, 99.9}) do
    out:write(string.format("latency %s %d\\n", p, latency:percentile(p)))
  end
  out:write(string.format("latency max %d\\n", latency.max))
  out:close()
end
"""

# Requests of one method to paths taken in turn from a list (each thread from its own
# place in it), with a bearer token; POSTs carry an empty body.
LUA_PATHS = """
local answers_path, token, method = "{answers}", "{token}", "{method}"
local paths = {{{paths}}}
local body = nil
if method == "POST" then body = "" end

function request()
  sent = sent + 1
  local path = paths[(sent + tid * 7919) % #paths + 1]
  return wrk.format(method, path, {{["Authorization"] = "Bearer " .. token}}, body)
end
"""


def paths_script(answers: Path, token: str, paths: list[str], method: str = "GET") -> str:
    """A wrk script sending ``method`` requests to ``paths`` in turn, collecting answers."""
    listed = ", ".join(f'"{p}"' for p in paths)
    return LUA_PATHS.format(answers=answers, token=token, method=method, paths=listed) + LUA_COLLECT


@dataclass
class WrkRun:
    """What wrk saw: answers by status, the source references answered 201, latencies (ms)."""

    seconds: float = 0.0
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    created: list[str] = field(default_factory=list)
    socket_errors: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    upstream_ms_total: float = 0.0
    upstream_timed: int = 0

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def unanswered(self) -> int:
        """Sent but never answered: in flight when wrk stopped (or timed out)."""
        return self.sent - self.answered

    @property
    def rps(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def rate_of(self, status: int) -> float:
        return self.statuses[status] / self.seconds if self.seconds else 0.0

    def others(self, expected: int) -> dict[int, int]:
        return {status: n for status, n in sorted(self.statuses.items()) if status != expected}

    def latencies(self) -> str:
        lat = self.latency_ms
        return f"p50 {lat['50']:.1f}  p95 {lat['95']:.1f}  p99 {lat['99']:.1f}  max {lat['max']:.1f}"


def run_wrk(
    url: str,
    script: Path,
    answers: Path,
    *,
    seconds: int,
    connections: int,
    threads: int,
    timeout_seconds: int = 10,
) -> WrkRun:
    subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
         "--timeout", f"{timeout_seconds}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        timeout=seconds + timeout_seconds + 60,
    )  # fmt: skip
    result = WrkRun()
    for line in answers.read_text().splitlines():
        kind, *values = line.split()
        if kind == "sent":
            result.sent += int(values[0])
        elif kind == "status":
            result.statuses[int(values[0])] += int(values[1])
        elif kind == "created":
            result.created.append(values[0])
        elif kind == "upstream":
            result.upstream_timed += int(values[0])
            result.upstream_ms_total += float(values[1])
        elif kind == "summary":
            duration_us, _, connect, read, write, timeout = (int(v) for v in values)
            result.seconds = duration_us / 1e6
            result.socket_errors = {"connect": connect, "read": read, "write": write, "timeout": timeout}
        elif kind == "latency":
            result.latency_ms[values[0]] = int(values[1]) / 1000
    return result


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User plus system CPU seconds each live process in ``pids`` has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def process_tree(root: int) -> set[int]:
    """``root`` and its descendants (uvicorn's worker processes)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return tree


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, anyone's processes)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_server_seconds(server_url: str) -> float:
    """CPU seconds the whole PostgreSQL server has used so far: the postmaster and every
    process under it now (backends, WAL writer, checkpointer...) plus the processes it has
    reaped (its children's time), so a connection opened and closed during a run counts
    too. Other databases' work on the same server counts as well: measure on a quiet one."""
    engine = create_engine(normalise_url(server_url))
    try:
        with engine.connect() as conn:
            backend = int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)
            # Read while connected: the backend process ends with its connection.
            postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    finally:
        engine.dispose()
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / tick  # cutime, cstime
    live = cpu_seconds(process_tree(postmaster) - {backend})
    return reaped + sum(live.values())


# What PostgreSQL counts of each database's work (pg_stat_database), as the benchmarks name it.
DATABASE_WORK = {
    "xact_commit": "commits",
    "tup_inserted": "rows inserted",
    "tup_updated": "updated",
    "tup_deleted": "deleted",
}


def database_work(server_url: str, databases: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """PostgreSQL's running counts of the work done in each of ``databases`` (a name for each
    database URL): commits and rows inserted, updated and deleted. A backend publishes its
    counts when it goes idle, at most once a second: over a run of many seconds, what the
    first second's reading misses of the run before is about what the last misses of it."""
    names = {make_url(url).database: name for name, url in databases.items()}
    engine = create_engine(normalise_url(server_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT datname, xact_commit, tup_inserted, tup_updated, tup_deleted "
                    "FROM pg_stat_database WHERE datname = ANY(:names)"
                ),
                {"names": list(names)},
            )
            return {names[row.datname]: {k: int(getattr(row, k)) for k in DATABASE_WORK} for row in rows}
    finally:
        engine.dispose()


def postgres_backends(server_url: str, database_urls: list[str]) -> set[int]:
    """The PostgreSQL server processes serving these databases now."""
    names = [make_url(url).database for url in database_urls]
    engine = create_engine(normalise_url(server_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"), {"names": names}
            )
            return {int(row.pid) for row in rows}
    finally:
        engine.dispose()


class Measured(Protocol):
    def component_pids(self, server_url: str) -> dict[str, set[int]]: ...

    def databases(self) -> dict[str, str]: ...


@dataclass
class Platform:
    stack: Stack
    database_urls: dict[str, str]
    token: str  # a school's referrer (REFERRER)

    def component_pids(self, server_url: str) -> dict[str, set[int]]:
        """Each process of the platform, PostgreSQL's backends for its databases included."""
        pids = {name: process_tree(proc.pid) for name, proc in self.stack.procs.items()}
        pids["postgres"] = postgres_backends(server_url, list(self.database_urls.values()))
        return pids

    def databases(self) -> dict[str, str]:
        return dict(self.database_urls)

    @property
    def dev_issuer(self) -> Path:
        return self.stack.config.data_dir / "dev-issuer"

    def mint(self, claims: Mapping[str, object]) -> str:
        """A token of the stack's own dev issuer (what safeguarding_kit.testing.TokenFactory
        does too, without importing the test client)."""
        return mint_dev_token(self.dev_issuer, **claims)  # type: ignore[arg-type]


@dataclass
class Probe:
    url: str
    proc: subprocess.Popen[bytes]
    database_url: str  # as the platform's are written (psycopg), for the benchmark's checks
    driver: str

    def component_pids(self, server_url: str) -> dict[str, set[int]]:
        return {
            "probe": process_tree(self.proc.pid),
            "postgres": postgres_backends(server_url, [self.database_url]),
        }

    def databases(self) -> dict[str, str]:
        return {"probe": self.database_url}

    def count(self, sql: str, **params: object) -> int:
        """A count from the probe's database (tables probe_referrals and probe_audit)."""
        engine = create_engine(normalise_url(self.database_url))
        try:
            with engine.connect() as conn:
                return int(conn.scalar(text(sql), params) or 0)
        finally:
            engine.dispose()


class CpuMeter:
    """CPU seconds each process of what is measured (the platform or the probe) spends from
    now on, wrk's (this script's waited-for child) and the rest of the machine's (other
    people's work included)."""

    def __init__(self, measured: Measured, server_url: str) -> None:
        self.measured, self.server_url = measured, server_url
        self.before = {name: cpu_seconds(p) for name, p in measured.component_pids(server_url).items()}
        self.postgres_before = postgres_server_seconds(server_url)
        self.busy_before = machine_busy_seconds()
        self.children_before = os.times()

    def used(self) -> tuple[dict[str, float], float]:
        """Seconds per component, and the whole machine's busy seconds, since the start."""
        children, busy = os.times(), machine_busy_seconds()
        cpu = {}
        for name, pids in self.measured.component_pids(self.server_url).items():
            if name == "postgres":  # the whole server: backends come and go with the pools
                cpu[name] = postgres_server_seconds(self.server_url) - self.postgres_before
                continue
            before = self.before.get(name, {})
            cpu[name] = sum(
                used - before.get(pid, 0.0) for pid, used in cpu_seconds(pids | set(before)).items()
            )
        cpu["wrk"] = (children.children_user + children.children_system) - (
            self.children_before.children_user + self.children_before.children_system
        )
        cpu["rest of machine"] = max(0.0, (busy - self.busy_before) - sum(cpu.values()))
        return cpu, busy - self.busy_before


@dataclass
class Load:
    """One measured wrk run and the CPU spent during it."""

    run: WrkRun
    cpu: dict[str, float]  # seconds per process (see CpuMeter.used)
    machine: float  # the whole machine's busy seconds
    database: dict[str, dict[str, int]]  # PostgreSQL's counts of each database's work (DATABASE_WORK)


def measure(
    url: str,
    script: Callable[[str, Path], str],
    workdir: Path,
    measured: Measured,
    server_url: str,
    *,
    seconds: int,
    warmup_seconds: int,
    connections: int,
    threads: int,
    timeout_seconds: int = 10,
    before: Callable[[], object] | None = None,
) -> Load:
    """An unmeasured warm-up (pools, caches, PostgreSQL's buffers), then the measured run
    with the CPU of ``measured``'s processes metered. ``script(phase, answers)`` is the wrk
    script for a phase ("warm" or "") writing its answers to ``answers``; ``before`` is
    called between the two (to count what the measured run will add to)."""
    answers, path = workdir / "answers.txt", workdir / "load.lua"
    wrk = {"connections": connections, "threads": threads, "timeout_seconds": timeout_seconds}
    if warmup_seconds > 0:
        path.write_text(script("warm", answers))
        run_wrk(url, path, answers, seconds=warmup_seconds, **wrk)
        time.sleep(1)  # what wrk left in flight at the warm-up's stop finishes unmeasured
    path.write_text(script("", answers))
    if before is not None:
        before()
    meter = CpuMeter(measured, server_url)
    work_before = database_work(server_url, measured.databases())
    run = run_wrk(url, path, answers, seconds=seconds, **wrk)
    cpu, machine = meter.used()
    work_after = database_work(server_url, measured.databases())
    work = {
        name: {k: n - work_before.get(name, {}).get(k, 0) for k, n in counts.items()}
        for name, counts in work_after.items()
    }
    return Load(run, cpu, machine, work)


def database_work_line(work: Mapping[str, Mapping[str, int]], requests: int) -> str:
    """Each database's commits and rows written per request, e.g. ``referral-api 2.0 commits,
    11.6 rows inserted, 4.8 updated, 0.0 deleted``."""
    return "; ".join(
        f"{name} " + ", ".join(f"{counts[k] / requests:.1f} {label}" for k, label in DATABASE_WORK.items())
        for name, counts in work.items()
    )


def cpu_per_request(cpu: dict[str, float], requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request of each measured process (wrk and others' left out)."""
    return {
        name: seconds * 1000 / requests
        for name, seconds in cpu.items()
        if name not in ("wrk", "rest of machine") and requests
    }


def cpu_line(per: dict[str, float]) -> str:
    return f"{', '.join(f'{k} {v:.1f}' for k, v in per.items())}; total {sum(per.values()):.1f}"


def add_relays_option(parser: argparse.ArgumentParser) -> None:
    """``--relays-in-process``: the old shape, for comparison with relay processes."""
    parser.add_argument(
        "--relays-in-process",
        action="store_true",
        help="each service's outbox relay as a thread of its serve process(es), as on SQLite, "
        "instead of a process of its own beside it (as deployed)",
    )


def relays_shape(args: argparse.Namespace) -> str:
    """How the services' outbox relays ran, for a report's heading."""
    return "relays in process" if args.relays_in_process else "a relay process per service"


REPOSITORY = Path(__file__).resolve().parent.parent
# What the platform's processes import, relative to a checkout's root.
PACKAGE_SOURCES = (
    "libs/safeguarding-kit/src",
    "services/referral-api/src",
    "services/risk-api/src",
    "services/meetings-api/src",
    "gateway/src",
)
# A platform running another commit's code is migrated by this tree's migrations.
MIGRATIONS = (
    "services/referral-api/migrations",
    "services/risk-api/migrations",
    "services/meetings-api/migrations",
)


class NotComparable(Exception):
    """The commit asked to compare with cannot run on this tree's databases."""


@contextmanager
def checked_out(ref: str, workdir: Path) -> Iterator[Path]:
    """``ref``'s tree, checked out in a git worktree under ``workdir`` and removed afterwards,
    for a platform running that commit's code (:func:`running_platform`'s ``code``). Refused
    (:class:`NotComparable`) for a commit git does not know or whose migrations are not this
    tree's: both platforms' databases are migrated by this tree's code."""
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
    )
    if known.returncode != 0:
        raise NotComparable(f"git knows no commit '{ref}' in {REPOSITORY}.")
    commit = known.stdout.strip()
    migrations = subprocess.run(["git", "diff", "--quiet", commit, "--", *MIGRATIONS], cwd=REPOSITORY)
    if migrations.returncode != 0:
        raise NotComparable(
            f"The migrations of {ref} are not this tree's: compare with a commit whose schema is "
            "the same (a change of code alone), or migrate by hand."
        )
    tree = workdir / f"code-{commit[:12]}"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=REPOSITORY, check=True
    )
    try:
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPOSITORY, check=False)


def code_path(tree: Path) -> str:
    """A PYTHONPATH under which the platform's processes import ``tree``'s packages, not
    the installed ones (this tree's, installed editable)."""
    return os.pathsep.join(str(tree / source) for source in PACKAGE_SOURCES)


@contextmanager
def running_platform(
    server_url: str,
    workdir: Path,
    workers: int,
    redis_url: str,
    run: str,
    *,
    service_workers: int = 1,
    separate_relays: bool = True,
    code: Path | None = None,
) -> Iterator[Platform]:
    """The gateway (``workers`` processes) and the three services (``service_workers``
    processes each) on databases of their own, migrated and ready, each service's outbox
    relay a process of its own (as deployed) unless not ``separate_relays`` (then a thread
    of each worker); stopped and dropped on the way out, whatever happens. ``code``: a
    checkout (:func:`checked_out`) whose packages the processes run instead of this tree's."""
    os.environ[TEST_DATABASE_URL_ENV] = server_url
    with ExitStack() as cleanup:
        urls = {name: cleanup.enter_context(provisioned_database(name, workdir)) for name in SERVICES}
        extra_env = {
            # One client sending as fast as it can: the limits stay on (their cost is part
            # of the figure) but far above what the machine can do.
            "RATE_LIMIT_READS": "100000000/minute",
            "RATE_LIMIT_WRITES": "100000000/minute",
            "UPSTREAM_TIMEOUT_SECONDS": "10",
        }
        if code is not None:
            extra_env["PYTHONPATH"] = code_path(code)
        # WORKERS per process: every service reads it too, so it is never set for all.
        process_env = {name: {"WORKERS": str(service_workers)} for name in SERVICES}
        process_env["gateway"] = {"WORKERS": str(workers)}
        if workers > 1:
            # Several gateway workers must share one budget per client (the gateway refuses
            # to start otherwise); a prefix of this run's own keeps its counts apart.
            extra_env.update(RATE_LIMIT_STORAGE_URL=redis_url, RATE_LIMIT_KEY_PREFIX=f"bench-{run}")
        config = StackConfig.on_free_ports(
            workdir,
            database_urls=urls,
            log_dir=workdir / "logs",
            extra_env=extra_env,
            process_env=process_env,
            separate_relays=separate_relays,
        )
        prepare(config)
        stack = Stack(config)
        cleanup.callback(stack.stop_all)
        stack.start_all()
        stack.wait_all_ready(timeout=60)
        yield Platform(stack, urls, mint_dev_token(config.data_dir / "dev-issuer", **REFERRER))  # type: ignore[arg-type]


@contextmanager
def running_probe(server_url: str, workdir: Path, dev_issuer: Path, driver: str) -> Iterator[Probe]:
    """The probe service (bench/probe/referral_probe.py) on a database of its own on
    ``server_url``, trusting the dev issuer whose keys are in ``dev_issuer``: uvicorn with
    uvloop and httptools, one worker; stopped and its database dropped on the way out."""
    os.environ[TEST_DATABASE_URL_ENV] = server_url
    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(provisioned_database("bench-probe", workdir))
        port = free_port()
        logs = workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = cleanup.enter_context((logs / "probe.log").open("ab"))
        env = {
            **os.environ,
            "PROBE_DATABASE_URL": make_url(database_url)
            .set(drivername=f"postgresql+{driver}")
            .render_as_string(hide_password=False),
            "PROBE_PUBLIC_KEY_FILE": str(dev_issuer / "public.pem"),
            "PROBE_ISSUER": DEV_ISSUER,
            "PROBE_AUDIENCE": DEFAULT_AUDIENCE,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "referral_probe:app", "--app-dir", str(PROBE_DIR),
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        cleanup.callback(stop)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the probe exited with code {proc.returncode}: see {logs / 'probe.log'}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the probe did not come up within 30 s")
            time.sleep(0.1)
        yield Probe(url, proc, database_url, driver)
