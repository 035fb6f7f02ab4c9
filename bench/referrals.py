"""Referral intake under load, against the ceiling in the same run: POST /api/v1/referrals
through the gateway to the referral service on PostgreSQL, and the same requests straight
to the probe (bench/probe/referral_probe.py: an RS256 check, pydantic validation and a
two-row transaction with SQLAlchemy's async engine, uvicorn with uvloop, one worker), each
driven by wrk with the same script, connections and duration, the probe first.

Every request is a distinct referral about a distinct invented child, with its own
Idempotency-Key and source_reference, built by a wrk Lua script from a per-thread counter.
Prints, for both, requests per second and p50/p95/p99 latency, and the full path's
throughput as a ratio of the probe's; then for the full path answers other than 201 by
status, socket errors, the CPU each process used per referral, the work each database
did per referral (commits, rows inserted, updated, deleted), and a check of the
referral service's database: every referral answered 201 is there with its audit record
and its referral.received event in the outbox (with its delivery to the risk service
queued), and nothing else is, but for requests still in flight when wrk stopped (wrk
drops them; the service may finish them). Last, how many of those events the relay had
delivered to the risk service (each opens a screening) by that check, and how long the
rest took: intake that leaves its screenings behind is not keeping up.

With ``--rounds N`` the probe and the platform are measured in turn N times (each round's
referrals checked, and its screenings all delivered before the next round's probe), a
line a round is printed, and the round whose ratio is the median is reported in full: one
run's ratio on a shared machine is a noisy figure.

With ``--against REF`` a second platform runs commit REF's code (checked out in a git
worktree; its migrations must be this tree's) beside this tree's, and each round measures
the probe, then both platforms in turn. Which goes first alternates, and ``--rounds`` must
be even: going second was faster in every round of the same code measured against itself.
A change's effect is read from the two platforms' figures a minute apart: this tree's
throughput as a ratio of REF's, round by round and at the median, with each one's CPU a
referral.

The issue's aim (issue 18): >= 0.5x the probe's throughput in the same run with
p99 <= 50 ms at 8 connections, no answer but 201, and the database holding exactly the
201s, each audited and announced.

    .venv/bin/python bench/referrals.py [--seconds 20] [--connections 8] [--workers 1] [--service-workers 1] [--rounds 1]
        [--against REF]

Each service, and the probe, gets a database of its own on the server BENCH_DATABASE_URL
names (default: the local PostgreSQL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

from _harness import (
    DEFAULT_SERVER,
    LUA_COLLECT,
    PROBE_DRIVERS,
    Load,
    Measured,
    NotComparable,
    Platform,
    Probe,
    WrkRun,
    add_relays_option,
    checked_out,
    cpu_line,
    cpu_per_request,
    database_work_line,
    measure,
    relays_shape,
    running_platform,
    running_probe,
)
from sqlalchemy import create_engine, distinct, func, select, text

from referral_api.database import EVENTS
from safeguarding_kit.db import normalise_url

AIM_RATIO, AIM_P99_MS, AIM_CONNECTIONS = 0.5, 50.0, 8
REFERRAL_RECEIVED, ANNOUNCED_TO = "referral.received", "risk-api"

# One request per call of request(): a counter per thread makes each referral distinct.
# Placeholders in braces are filled in by lua_script(); LUA_COLLECT counts the answers.
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
"""


def lua_script(run: str, token: str, answers: Path) -> str:
    """The wrk script for one run: children aged 10 to 17 today, references BENCH-<run>-..."""
    today = datetime.now(UTC).date()
    oldest = date(today.year - 17, today.month, 1)
    born_from = int(datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC).timestamp())
    return (
        WRK_SCRIPT.format(run=run, token=token, answers=answers, born_from=born_from, born_span_days=7 * 365)
        + LUA_COLLECT
    )


@dataclass
class DatabaseCheck:
    referrals: int
    missing_201s: list[str]
    unexplained: list[str]
    finished_after_stop: int
    audited: int
    announced: int  # with their referral.received event in the outbox
    queued: int  # ... and that event's delivery to the risk service
    ok: bool


def check_database(referral_db: str, run: str, wrk_run: WrkRun) -> DatabaseCheck:
    """Every referral answered 201 is in the database with its creation audited and its
    referral.received event (with a delivery to the risk service) in the outbox; the only
    others are requests wrk never saw answered (at most one per connection at the stop)."""
    events, deliveries = EVENTS.events, EVENTS.deliveries
    announced_id = events.c.data["referral_id"].as_string()
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
        received = (events.c.type == REFERRAL_RECEIVED) & announced_id.in_(ids)
        announced = conn.scalar(select(func.count(distinct(announced_id))).where(received))
        queued = conn.scalar(
            select(func.count(distinct(announced_id)))
            .select_from(events.join(deliveries, deliveries.c.event_seq == events.c.seq))
            .where(received, deliveries.c.subscriber == ANNOUNCED_TO)
        )
    engine.dispose()
    stored = [row.source_reference for row in rows]
    answered_201 = set(wrk_run.created)
    missing = sorted(answered_201 - set(stored))
    extra = sorted(set(stored) - answered_201)
    # A non-201 answer to a request that nonetheless wrote its referral would show here too.
    unexplained = extra if len(extra) > wrk_run.unanswered else []
    ok = (
        not missing
        and not unexplained
        and len(stored) == len(set(stored))
        and len(answered_201) == len(wrk_run.created)
        and audited == len(stored)
        and announced == len(stored)
        and queued == len(stored)
    )
    return DatabaseCheck(
        len(stored),
        missing,
        unexplained,
        len(extra),
        int(audited or 0),
        int(announced or 0),
        int(queued or 0),
        ok,
    )


@dataclass(frozen=True)
class CatchUp:
    """How the referral.received deliveries to the risk service (each opens a screening)
    kept up: how many were delivered by the database check, and how long the rest took."""

    announced: int
    delivered_at_check: int
    seconds_to_all: float | None  # None: not all within the wait


def delivery_catch_up(referral_db: str, run: str, wait_seconds: float = 120.0) -> CatchUp:
    """Counts the run's delivered referral.received events now, then waits until every one
    is delivered (at most ``wait_seconds``)."""
    counting = text(
        "SELECT count(*) FILTER (WHERE d.status = 'delivered') AS delivered, count(*) AS announced "
        "FROM outbox_deliveries d JOIN outbox_events e ON e.seq = d.event_seq "
        "JOIN referrals r ON CAST(r.id AS TEXT) = e.data ->> 'referral_id' "
        "WHERE e.type = :type AND d.subscriber = :subscriber AND r.source_reference LIKE :prefix"
    )
    params = {"type": REFERRAL_RECEIVED, "subscriber": ANNOUNCED_TO, "prefix": f"BENCH-{run}-%"}
    engine = create_engine(normalise_url(referral_db))
    try:
        with engine.connect() as conn:
            # A PostgreSQL without autovacuum (as on the machines these run on) has no
            # statistics for the run's new rows, and joined them by nested loops: this count
            # took some 40 s a round. A hash join takes well under one, whatever it knows.
            conn.exec_driver_sql("SET enable_nestloop = off")
            conn.commit()
            first = conn.execute(counting, params).one()
            started = time.monotonic()
            row = first
            while row.delivered < row.announced and time.monotonic() - started < wait_seconds:
                time.sleep(0.5)
                conn.rollback()  # a fresh snapshot each time
                row = conn.execute(counting, params).one()
            waited = time.monotonic() - started
    finally:
        engine.dispose()
    return CatchUp(
        int(first.announced), int(first.delivered), waited if row.delivered == row.announced else None
    )


def probe_rows(probe: Probe, run: str) -> tuple[int, int]:
    """The probe's referrals of this run, and their creation audit records."""
    prefix = f"BENCH-{run}-%"
    referrals = probe.count(
        "SELECT count(*) FROM probe_referrals WHERE source_reference LIKE :prefix", prefix=prefix
    )
    audited = probe.count(
        "SELECT count(*) FROM probe_audit a JOIN probe_referrals r ON a.resource_id = r.id::text "
        "WHERE a.action = 'create' AND r.source_reference LIKE :prefix",
        prefix=prefix,
    )
    return referrals, audited


def table_row(name: str, r: WrkRun) -> str:
    lat = r.latency_ms
    answers = ", ".join(f"{n:,} {status}" for status, n in sorted(r.statuses.items())) or "none"
    return (
        f"  {name:<22} {r.rps:>7,.0f} {lat['50']:>8.1f} {lat['95']:>8.1f} {lat['99']:>8.1f} "
        f"{lat['max']:>8.1f}   {answers}"
    )


def report(
    args: argparse.Namespace,
    probe: Load,
    probe_rows: tuple[int, int],
    full: Load,
    check: DatabaseCheck,
    catch_up: CatchUp,
) -> bool:
    """Prints the comparison and the full path's details; True if the issue's aim is met."""
    wrk_run = full.run
    print(
        f"Referral intake: POST /api/v1/referrals, PostgreSQL, wrk {args.threads} thread(s) x "
        f"{args.connections} connections, {args.seconds} s each after {args.warmup_seconds} s warm-up; "
        f"{args.workers} gateway worker(s), {args.service_workers} worker(s) per service, {relays_shape(args)}"
    )
    print(f"  {'':<22} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}   answers")
    print(table_row(f"probe ({args.probe_driver})", probe.run))
    print(table_row("platform (gateway)", wrk_run))
    ratio = wrk_run.rate_of(201) / probe.run.rate_of(201) if probe.run.rate_of(201) else 0.0
    print(f"  ratio                  {ratio:.2f}x the probe's referrals/s (201s) in the same run")
    if wrk_run.upstream_timed:
        print(
            f"  of which               {wrk_run.upstream_ms_total / wrk_run.upstream_timed:.1f} ms on average "
            "waiting on the referral service (Server-Timing upstream)"
        )
    others = wrk_run.others(201)
    print(f"  non-201                {', '.join(f'{s}: {n}' for s, n in others.items()) or 'none'}")
    print(f"  socket errors          {', '.join(f'{k} {v}' for k, v in wrk_run.socket_errors.items())}")
    print(
        f"  database               {check.referrals:,} referrals = {len(set(wrk_run.created)):,} answered 201 "
        f"+ {check.finished_after_stop} finished after wrk stopped "
        f"(of {wrk_run.unanswered} sent but never answered); {check.audited:,} creation audit records; "
        f"{check.announced:,} {REFERRAL_RECEIVED} events in the outbox, {check.queued:,} of them "
        f"queued for the {ANNOUNCED_TO.removesuffix('-api')} service"
    )
    if check.missing_201s:
        print(
            f"  MISSING                {len(check.missing_201s)} answered 201 but not stored, "
            f"e.g. {check.missing_201s[:3]}"
        )
    if check.unexplained:
        print(
            f"  UNEXPLAINED            {len(check.unexplained)} stored but never answered 201, "
            f"e.g. {check.unexplained[:3]}"
        )
    behind = catch_up.announced - catch_up.delivered_at_check
    print(
        f"  screenings opened      {catch_up.delivered_at_check:,} of {catch_up.announced:,} "
        f"{REFERRAL_RECEIVED} events delivered to the {ANNOUNCED_TO.removesuffix('-api')} service by the check; "
        + (
            f"the other {behind:,} {catch_up.seconds_to_all:.1f} s later"
            if catch_up.seconds_to_all is not None
            else f"{behind:,} still not delivered"
        )
    )
    referrals, audits = probe_rows
    print(
        f"  probe database         {referrals:,} referrals, {audits:,} audit records for "
        f"{probe.run.statuses[201]:,} answered 201 (+ up to {probe.run.unanswered} in flight at the stop)"
    )
    cores = os.cpu_count() or 1
    for name, load in (("platform", full), ("probe", probe)):
        budget = load.run.seconds * cores
        shares = ", ".join(f"{k} {v:.1f}" for k, v in load.cpu.items())
        print(f"  CPU s, {name:<15} {shares}; whole machine {load.machine:.1f} of {budget:.0f} available")
    if wrk_run.answered:
        # What one referral costs, and the rate those costs allow with every core busy.
        per = cpu_per_request(full.cpu, wrk_run.answered)
        total = sum(per.values())
        print(
            f"  CPU ms/referral        {cpu_line(per)} -> at most {1000 * cores / total:,.0f} req/s on "
            f"{cores} cores, {1000 / per['referral-api']:,.0f} req/s for one referral-api process "
            "(one core, the GIL)"
        )
    if probe.run.answered:
        print(f"  CPU ms/referral, probe {cpu_line(cpu_per_request(probe.cpu, probe.run.answered))}")
    # How much a referral asks of PostgreSQL, by the database of each service (their relays'
    # deliveries and the risk service's screenings included), against the probe's two rows.
    for label, load in (("database work/referral", full), ("database work, probe", probe)):
        if load.run.answered:
            print(f"  {label:<22} {database_work_line(load.database, load.run.answered)}")
    p99 = wrk_run.latency_ms["99"]
    parts = {
        f">= {AIM_RATIO}x the probe's throughput ({ratio:.2f}x)": ratio >= AIM_RATIO,
        f"p99 <= {AIM_P99_MS:.0f} ms ({p99:.0f} ms)": p99 <= AIM_P99_MS,
        f"at {AIM_CONNECTIONS} connections ({args.connections})": args.connections == AIM_CONNECTIONS,
        f"no answer but 201 ({sum(others.values())} others)": not others,
        "the database holding exactly the 201s, each audited and announced "
        f"({'yes' if check.ok else 'no'})": check.ok,
    }
    met = all(parts.values())
    print(f"  aim (issue 18)         {', '.join(parts)}: {'met' if met else 'not met'}")
    missed = [name.split(" (")[0] for name, ok in parts.items() if not ok]
    if missed:
        print(f"  missed                 {'; '.join(missed)}")
    return met


@dataclass(frozen=True)
class Round:
    """The probe and then the platform measured once, and the platform's database checked."""

    run: str
    probe: Load
    full: Load
    check: DatabaseCheck
    catch_up: CatchUp

    @property
    def ratio(self) -> float:
        probe_rate = self.probe.run.rate_of(201)
        return self.full.run.rate_of(201) / probe_rate if probe_rate else 0.0


def median_round(rounds: list[Round]) -> Round:
    """The round whose ratio to the probe is the median (the lower middle of an even count)."""
    ordered = sorted(rounds, key=lambda r: r.ratio)
    return ordered[(len(ordered) - 1) // 2]


def report_rounds(rounds: list[Round]) -> None:
    """One line a round, then the median round's full report follows."""
    print(
        f"Rounds: the probe and the platform in turn, {len(rounds)} times; the median round reported in full"
    )
    for n, r in enumerate(rounds, start=1):
        print(
            f"  round {n}: probe {r.probe.run.rate_of(201):,.0f}/s, platform {r.full.run.rate_of(201):,.0f}/s "
            f"(p99 {r.full.run.latency_ms['99']:.0f} ms), ratio {r.ratio:.2f}x"
        )


@dataclass(frozen=True)
class Compared:
    """One round of ``--against``: the probe, then REF's platform and this tree's."""

    probe: Load
    against: Round
    this: Round

    @property
    def gain(self) -> float:
        """This tree's referrals/s as a ratio of REF's, a minute apart."""
        theirs = self.against.full.run.rate_of(201)
        return self.this.full.run.rate_of(201) / theirs if theirs else 0.0


def cpu_ms_per_referral(load: Load) -> float:
    """All the platform's processes' CPU an answer, in milliseconds (as the report counts it)."""
    return sum(cpu_per_request(load.cpu, load.run.answered).values())


def report_comparison(ref: str, compared: list[Compared]) -> None:
    """A line a round for each platform, then this tree against REF at the median."""
    print(
        f"This tree against {ref}: the probe, then both platforms in turn, {len(compared)} time(s); "
        "referrals/s (ratio to the probe), p99, CPU ms a referral over all processes"
    )
    for n, c in enumerate(compared, start=1):
        line = [f"  round {n}: probe {c.probe.run.rate_of(201):,.0f}/s"]
        for name, r in ((ref, c.against), ("this tree", c.this)):
            line.append(
                f"{name} {r.full.run.rate_of(201):,.0f}/s ({r.ratio:.2f}x, p99 "
                f"{r.full.run.latency_ms['99']:.0f} ms, {cpu_ms_per_referral(r.full):.1f} ms)"
            )
        print("; ".join(line) + f"; this tree {c.gain:.2f}x {ref}'s")
    gains = sorted(c.gain for c in compared)
    theirs = sorted(cpu_ms_per_referral(c.against.full) for c in compared)
    ours = sorted(cpu_ms_per_referral(c.this.full) for c in compared)
    middle = (len(compared) - 1) // 2
    print(
        f"  median                 this tree {gains[middle]:.2f}x {ref}'s referrals/s; CPU ms a referral "
        f"{ours[middle]:.1f} against {theirs[middle]:.1f} (of an even count, the lower middle)"
    )
    if not all(c.against.check.ok and c.this.check.ok for c in compared):
        print("  (a platform's database did not hold exactly its 201s: see below)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=20, help="each measured run (default 20)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway worker processes (WORKERS; above 1 counts rate limits in Redis)",
    )
    add_relays_option(parser)
    parser.add_argument(
        "--service-workers",
        type=int,
        default=1,
        help="worker processes of each service (their WORKERS; default 1)",
    )
    parser.add_argument(
        "--warmup-seconds", type=int, default=3, help="unmeasured run before each (default 3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the probe and the platform in turn this many times and report the round "
        "with the median ratio (the spread between runs on a shared machine is wide; default 1)",
    )
    parser.add_argument(
        "--against",
        metavar="REF",
        help="also run commit REF's code as a second platform and measure both in turn each "
        "round, each first in half of them (an even --rounds; REF's migrations must be this tree's)",
    )
    parser.add_argument(
        "--probe-driver",
        choices=PROBE_DRIVERS,
        default=PROBE_DRIVERS[0],
        help=f"the probe's PostgreSQL driver under SQLAlchemy's async engine (default {PROBE_DRIVERS[0]})",
    )
    parser.add_argument(
        "--redis-url", default="async+redis://127.0.0.1:6379", help="rate-limit storage when --workers > 1"
    )
    args = parser.parse_args(argv)
    args.threads = max(1, min(args.threads, args.connections))
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.against and args.rounds % 2:
        # The same code against itself, 3 rounds: the platform measured second was the faster
        # in each (1.16x, 1.32x, 1.07x): each must go first as often as the other.
        parser.error("--against needs an even number of --rounds: each platform goes first in half of them")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through the clean-ups below

    signal.signal(signal.SIGTERM, stop)
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-referrals-") as tmp, ExitStack() as running:
        workdir = Path(tmp)

        def platform_running(code: Path | None, where: Path) -> Platform:
            return running.enter_context(
                running_platform(
                    server,
                    where,
                    args.workers,
                    args.redis_url,
                    run,
                    service_workers=args.service_workers,
                    separate_relays=not args.relays_in_process,
                    code=code,
                )
            )

        against: Platform | None = None
        if args.against:
            try:
                tree = running.enter_context(checked_out(args.against, workdir))
            except NotComparable as refused:
                print(refused, file=sys.stderr)
                return 2
            try:
                against = platform_running(tree, workdir / "against")
            except RuntimeError as failed:  # a process of it exited while starting
                print(
                    f"{args.against}'s platform did not start ({failed}). If {args.against} is from "
                    "before the relay process (python -m <service> relay), add --relays-in-process.",
                    file=sys.stderr,
                )
                return 2
        platform = platform_running(None, workdir)
        probe = running.enter_context(running_probe(server, workdir, platform.dev_issuer, args.probe_driver))

        def load(url: str, measured: Measured, run_id: str, token: str) -> Load:
            return measure(
                url,
                lambda phase, answers: lua_script(f"{phase}{run_id}", token, answers),
                workdir,
                measured,
                server,
                seconds=args.seconds,
                warmup_seconds=args.warmup_seconds,
                connections=args.connections,
                threads=args.threads,
            )

        def platform_round(measured: Platform, round_run: str, probe_load: Load) -> Round:
            full = load(measured.stack.config.gateway_url, measured, round_run, measured.token)
            time.sleep(1)  # let requests wrk dropped at the stop finish before counting
            referral_db = measured.database_urls["referral-api"]
            check = check_database(referral_db, round_run, full.run)
            catch_up = delivery_catch_up(referral_db, round_run)
            return Round(round_run, probe_load, full, check, catch_up)

        rounds: list[Round] = []
        compared: list[Compared] = []
        for n in range(args.rounds):
            round_run = run if args.rounds == 1 else f"{run}r{n}"
            # The probe first: the platform's relay and the risk service's screenings that a
            # load of referrals sets off then run after both measurements, not during the
            # probe's (and the next round starts once they have all run).
            probe_load = load(probe.url, probe, f"p{round_run}", platform.token)
            if against is None:
                rounds.append(platform_round(platform, round_run, probe_load))
                continue
            # Both platforms, first one then the other: which goes first alternates.
            if n % 2 == 0:
                theirs = platform_round(against, f"{round_run}a", probe_load)
                ours = platform_round(platform, round_run, probe_load)
            else:
                ours = platform_round(platform, round_run, probe_load)
                theirs = platform_round(against, f"{round_run}a", probe_load)
            rounds.append(ours)
            compared.append(Compared(probe_load, theirs, ours))
        if compared:
            report_comparison(args.against, compared)
        elif len(rounds) > 1:
            report_rounds(rounds)
        # The aim is reported, not enforced: figures on a shared machine are noisy.
        middle = median_round(rounds)
        report(
            args,
            middle.probe,
            probe_rows(probe, f"p{middle.run}"),
            middle.full,
            middle.check,
            middle.catch_up,
        )
        if not all(r.check.ok for r in rounds) or not all(c.against.check.ok for c in compared):
            print("the database does not hold exactly the referrals answered 201", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything started has been stopped and removed by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
