"""Referral intake under load: POST /api/v1/referrals through the gateway to the referral
service on PostgreSQL, driven by wrk at a fixed number of connections for a fixed time.

Every request is a distinct referral about a distinct invented child, with its own
Idempotency-Key and source_reference, built by a wrk Lua script from a per-thread counter.
Prints requests per second, p50/p95/p99 latency, answers other than 201 by status, socket
errors, the CPU each process used, and then checks the referral service's database: every
referral answered 201 is there with its audit record, and nothing else is, but for
requests still in flight when wrk stopped (wrk drops them; the service may finish them).

The issue's aim: >= 1,000 requests/s with p99 <= 50 ms on this 2-core machine.

    .venv/bin/python bench/referrals.py [--seconds 30] [--connections 8] [--workers 1]

Each service gets a database of its own on the server BENCH_DATABASE_URL names (default:
the local PostgreSQL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from devstack.stack import Stack, StackConfig, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token
from safeguarding_kit.db import normalise_url
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

SERVICES = ("referral-api", "risk-api", "meetings-api")
REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
AIM_RPS, AIM_P99_MS = 1000.0, 50.0

# One request per call of request(): a counter per thread makes each referral distinct.
# Placeholders in braces are filled in by lua_script(); answers are written by done().
WRK_SCRIPT = """
local run, token, answers_path = "{run}", "{token}", "{answers}"
local born_from, born_span_days = {born_from}, {born_span_days}

local given = {{"Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Sophia", "Grace", "Freya",
  "Ruby", "Evie", "Ella", "Poppy", "Chloe", "Noah", "Oliver", "George", "Leo", "Harry", "Jack",
  "Charlie", "Jacob", "Freddie", "Alfie", "Theo", "Oscar", "Archie", "Mason", "Kai", "Tyler", "Jayden"}}
local family = {{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
  "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
  "Wood", "Jackson", "Clarke", "Khan", "Hussain", "Ali", "Ahmed", "Begum", "Okafor", "Mensah",
  "Kowalski", "Nowak", "Murphy", "Kelly", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Cooper"}}
local schools = {{"Hillsborough Academy", "Park Hill School", "Meadowhead School", "Firth Park Academy",
  "Parkwood E-ACT Academy", "Chaucer School"}}
local ethnicities = {{"white_british", "white_irish", "mixed_white_and_black_caribbean", "asian_pakistani",
  "black_african", "white_other", "not_stated"}}
local concerns = {{"sexual_exploitation", "criminal_exploitation", "county_lines", "online_harm", "missing",
  "trafficking"}}
local urgencies = {{"routine", "urgent", "immediate"}}
local genders = {{"female", "male"}}
local summaries = {{"Seen getting into cars with older males after school.",
  "New phone, trainers and cash; missing from lessons three times this month.",
  "Found in another city with adults not known to the family.",
  "Disclosed being asked to carry packages for older boys."}}
local template = '{{"source_reference":"%s","child":{{"given_name":"%s","family_name":"%s",' ..
  '"date_of_birth":"%s","gender":"%s","ethnicity":"%s","school":"%s","home_ward_code":"E05%06d"}},' ..
  '"referrer":{{"name":"Sam Teacher","role":"Designated Safeguarding Lead","email":"dsl@school.example"}},' ..
  '"concern_types":["%s"],"summary":"%s","lawful_basis":{{"basis":"consent"}},"urgency":"%s"}}'

local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

sent, statuses, created, timed, upstream_ms = 0, {{}}, {{}}, 0, 0

local function pick(list, n)
  return list[n % #list + 1]
end

function request()
  sent = sent + 1
  local ref = string.format("BENCH-%s-%d-%d", run, tid, sent)
  local h = (sent * 2654435761 + tid * 40503) % 4294967296  -- spreads names and birth dates
  local body = string.format(template, ref, pick(given, h), pick(family, math.floor(h / 32)),
    os.date("!%Y-%m-%d", born_from + (h % born_span_days) * 86400), pick(genders, sent),
    pick(ethnicities, math.floor(h / 7)), pick(schools, math.floor(h / 11)), 10000 + h % 990000,
    pick(concerns, math.floor(h / 13)), pick(summaries, math.floor(h / 17)), pick(urgencies, sent))
  return wrk.format("POST", "/api/v1/referrals", {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = ref,
  }}, body)
end

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
  for _, p in ipairs({{50, 95, 99, 99.9}}) do
    out:write(string.format("latency %s %d\\n", p, latency:percentile(p)))
  end
  out:write(string.format("latency max %d\\n", latency.max))
  out:close()
end
"""


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
    def rps(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def lua_script(run: str, token: str, answers: Path) -> str:
    """The wrk script for one run: children aged 10 to 17 today, references BENCH-<run>-..."""
    today = datetime.now(UTC).date()
    oldest = date(today.year - 17, today.month, 1)
    born_from = int(datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC).timestamp())
    return WRK_SCRIPT.format(
        run=run, token=token, answers=answers, born_from=born_from, born_span_days=7 * 365
    )


def run_wrk(url: str, script: Path, answers: Path, *, seconds: int, connections: int, threads: int) -> WrkRun:
    subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(script), url],
        check=True,
        capture_output=True,
        timeout=seconds + 60,
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


@dataclass
class Platform:
    stack: Stack
    database_urls: dict[str, str]
    token: str

    def component_pids(self, server_url: str) -> dict[str, set[int]]:
        """Each process of the platform, PostgreSQL's backends for its databases included."""
        pids = {name: process_tree(proc.pid) for name, proc in self.stack.procs.items()}
        names = [make_url(url).database for url in self.database_urls.values()]
        engine = create_engine(normalise_url(server_url))
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = ANY(:names)"), {"names": names}
            )
            pids["postgres"] = {int(row.pid) for row in rows}
        engine.dispose()
        return pids


class CpuMeter:
    """CPU seconds each process of the platform spends from now on, wrk's (this script's
    waited-for child) and the rest of the machine's (other people's work included)."""

    def __init__(self, platform: Platform, server_url: str) -> None:
        self.platform, self.server_url = platform, server_url
        self.before = {name: cpu_seconds(p) for name, p in platform.component_pids(server_url).items()}
        self.busy_before = machine_busy_seconds()
        self.children_before = os.times()

    def used(self) -> tuple[dict[str, float], float]:
        """Seconds per component, and the whole machine's busy seconds, since the start."""
        children, busy = os.times(), machine_busy_seconds()
        cpu = {}
        for name, pids in self.platform.component_pids(self.server_url).items():
            before = self.before.get(name, {})
            # A backend opened during the run counts from zero; one closed is lost (rare).
            cpu[name] = sum(
                used - before.get(pid, 0.0) for pid, used in cpu_seconds(pids | set(before)).items()
            )
        cpu["wrk"] = (children.children_user + children.children_system) - (
            self.children_before.children_user + self.children_before.children_system
        )
        cpu["rest of machine"] = max(0.0, (busy - self.busy_before) - sum(cpu.values()))
        return cpu, busy - self.busy_before


@contextmanager
def running_platform(
    server_url: str, workdir: Path, workers: int, redis_url: str, run: str
) -> Iterator[Platform]:
    """The gateway and the three services on databases of their own, migrated and ready;
    stopped and dropped on the way out, whatever happens."""
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
        if workers > 1:
            # Several gateway workers must share one budget per client (the gateway refuses
            # to start otherwise); a prefix of this run's own keeps its counts apart.
            extra_env.update(
                WORKERS=str(workers), RATE_LIMIT_STORAGE_URL=redis_url, RATE_LIMIT_KEY_PREFIX=f"bench-{run}"
            )
        config = StackConfig.on_free_ports(
            workdir, database_urls=urls, log_dir=workdir / "logs", extra_env=extra_env
        )
        prepare(config)
        stack = Stack(config)
        cleanup.callback(stack.stop_all)
        stack.start_all()
        stack.wait_all_ready(timeout=60)
        # Signed with the stack's own dev issuer key (what safeguarding_kit.testing.TokenFactory
        # does too, without importing the test client).
        token = mint_dev_token(workdir / "dev-issuer", **REFERRER)  # type: ignore[arg-type]
        yield Platform(stack, urls, token)


@dataclass
class DatabaseCheck:
    referrals: int
    missing_201s: list[str]
    unexplained: list[str]
    finished_after_stop: int
    audited: int
    ok: bool


def check_database(referral_db: str, run: str, wrk_run: WrkRun) -> DatabaseCheck:
    """Every referral answered 201 is in the database with its creation audited; the only
    others are requests wrk never saw answered (at most one per connection at the stop)."""
    engine = create_engine(normalise_url(referral_db))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, source_reference FROM referrals WHERE source_reference LIKE :prefix"),
            {"prefix": f"BENCH-{run}-%"},
        ).all()
        ids = [str(row.id) for row in rows]
        audited = conn.scalar(
            text(
                "SELECT count(DISTINCT resource_id) FROM audit_log WHERE action = 'create' "
                "AND resource_type = 'referral' AND resource_id = ANY(:ids)"
            ),
            {"ids": ids},
        )
    engine.dispose()
    stored = [row.source_reference for row in rows]
    answered_201 = set(wrk_run.created)
    missing = sorted(answered_201 - set(stored))
    extra = sorted(set(stored) - answered_201)
    unanswered = wrk_run.sent - wrk_run.answered
    # A non-201 answer to a request that nonetheless wrote its referral would show here too.
    unexplained = extra if len(extra) > unanswered else []
    ok = (
        not missing
        and not unexplained
        and len(stored) == len(set(stored))
        and len(answered_201) == len(wrk_run.created)
        and audited == len(stored)
    )
    return DatabaseCheck(len(stored), missing, unexplained, len(extra), int(audited or 0), ok)


def report(
    args: argparse.Namespace, wrk_run: WrkRun, check: DatabaseCheck, cpu: dict[str, float], machine: float
) -> None:
    lat = wrk_run.latency_ms
    print(
        f"Referral intake: POST /api/v1/referrals through the gateway, PostgreSQL, "
        f"wrk {args.threads} thread(s) x {args.connections} connections, {args.seconds} s, "
        f"{args.workers} gateway worker(s), one process per service"
    )
    print(f"  requests/s     {wrk_run.rps:,.0f}  ({wrk_run.answered:,} answered in {wrk_run.seconds:.1f} s)")
    print(
        f"  latency ms     p50 {lat['50']:.1f}  p95 {lat['95']:.1f}  p99 {lat['99']:.1f}  "
        f"p99.9 {lat['99.9']:.1f}  max {lat['max']:.1f}"
    )
    if wrk_run.upstream_timed:
        print(
            f"  of which       {wrk_run.upstream_ms_total / wrk_run.upstream_timed:.1f} ms on average "
            "waiting on the referral service (Server-Timing upstream)"
        )
    others = {status: n for status, n in sorted(wrk_run.statuses.items()) if status != 201}
    print(f"  non-201        {', '.join(f'{s}: {n}' for s, n in others.items()) or 'none'}")
    print(f"  socket errors  {', '.join(f'{k} {v}' for k, v in wrk_run.socket_errors.items())}")
    print(
        f"  database       {check.referrals:,} referrals = {len(set(wrk_run.created)):,} answered 201 "
        f"+ {check.finished_after_stop} finished after wrk stopped "
        f"(of {wrk_run.sent - wrk_run.answered} sent but never answered); "
        f"{check.audited:,} creation audit records"
    )
    if check.missing_201s:
        print(
            f"  MISSING        {len(check.missing_201s)} answered 201 but not stored, e.g. {check.missing_201s[:3]}"
        )
    if check.unexplained:
        print(
            f"  UNEXPLAINED    {len(check.unexplained)} stored but never answered 201, e.g. {check.unexplained[:3]}"
        )
    budget = wrk_run.seconds * (os.cpu_count() or 1)
    shares = ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
    print(f"  CPU s          {shares}; whole machine {machine:.1f} of {budget:.0f} available")
    if wrk_run.answered:
        # What one referral costs, and the rate those costs allow with every core busy.
        platform = {k: v for k, v in cpu.items() if k not in ("wrk", "rest of machine")}
        per = {name: seconds * 1000 / wrk_run.answered for name, seconds in platform.items()}
        total = sum(per.values())
        print(
            f"  CPU ms/request {', '.join(f'{k} {v:.1f}' for k, v in per.items())}; total {total:.1f} "
            f"-> at most {1000 * (os.cpu_count() or 1) / total:,.0f} req/s on {os.cpu_count()} cores, "
            f"{1000 / per['referral-api']:,.0f} req/s for one referral-api process (one core, the GIL)"
        )
    met = wrk_run.rps >= AIM_RPS and lat["99"] <= AIM_P99_MS
    print(
        f"  aim            >= {AIM_RPS:,.0f} req/s and p99 <= {AIM_P99_MS:.0f} ms: {'met' if met else 'not met'}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=30, help="measured run (default 30)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway worker processes (WORKERS; above 1 counts rate limits in Redis). "
        "The services have no such setting: one uvicorn process each.",
    )
    parser.add_argument("--warmup-seconds", type=int, default=3, help="unmeasured run first (default 3)")
    parser.add_argument(
        "--redis-url", default="async+redis://127.0.0.1:6379", help="rate-limit storage when --workers > 1"
    )
    args = parser.parse_args(argv)
    args.threads = max(1, min(args.threads, args.connections))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through the clean-ups below

    signal.signal(signal.SIGTERM, stop)
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-referrals-") as tmp:
        workdir = Path(tmp)
        with running_platform(server, workdir, args.workers, args.redis_url, run) as platform:
            url = platform.stack.config.gateway_url
            answers, script = workdir / "answers.txt", workdir / "referrals.lua"
            if args.warmup_seconds > 0:  # pools, caches, the token cache, PostgreSQL's buffers
                script.write_text(lua_script(f"warm{run}", platform.token, answers))
                run_wrk(
                    url,
                    script,
                    answers,
                    seconds=args.warmup_seconds,
                    connections=args.connections,
                    threads=args.threads,
                )
            script.write_text(lua_script(run, platform.token, answers))
            meter = CpuMeter(platform, server)
            wrk_run = run_wrk(
                url, script, answers, seconds=args.seconds, connections=args.connections, threads=args.threads
            )
            cpu, machine = meter.used()
            time.sleep(1)  # let requests wrk dropped at the stop finish before counting
            check = check_database(platform.database_urls["referral-api"], run, wrk_run)
            report(args, wrk_run, check, cpu, machine)
            if not check.ok:
                print("the database does not hold exactly the referrals answered 201", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything started has been stopped and removed by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
