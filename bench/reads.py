"""Reads under load, against the ceiling in the same run: through the gateway on PostgreSQL,
driven by wrk at a fixed number of connections for a fixed time, each read audited.

1. the probe read, straight to the probe (bench/probe/referral_probe.py: an RS256 check,
   one select by primary key and one audit insert, uvicorn with uvloop, one worker): the
   ceiling;
2. the one-item referral list, ``GET /api/v1/referrals?limit=1``;
3. a child's record, ``GET /api/v1/children/{id}``, the seeded children in turn;
4. building a MACE agenda of 200 children, ``POST /api/v1/meetings/occurrences/{id}/agenda/
   generate`` (the meetings service reads every child's risk and referrals from the other
   two services and audits each child on it), at fewer connections (--agenda-connections):
   each build takes a second or more.

Seeds first, through the API: one referral each about 200 invented children with
exploitation concerns (the referral service's events open a screening for each in the
risk service), a weekly MACE series, and an assessment putting each child at high risk.
Prints for each read requests/s, p50/p95/p99, answers by status, its ratio to the probe
read's requests/s, the CPU per request of each process, and checks each answered read was
audited: the service's audit log grew by one record per 200 (one per child per agenda
build), give or take those wrk dropped in flight at the stop.

The issue's aim (issue 18): the referral list and a child's record each >= 0.5x the
probe read's throughput in the same run, at 16 connections.

    .venv/bin/python bench/reads.py [--seconds 15] [--connections 16] [--children 200] [--service-workers 1]

Each service, and the probe, gets a database of its own on the server BENCH_DATABASE_URL
names (default: the local PostgreSQL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _harness import (
    DEFAULT_SERVER,
    HUB,
    PROBE_DRIVERS,
    Load,
    Measured,
    Platform,
    Probe,
    add_relays_option,
    cpu_line,
    cpu_per_request,
    measure,
    paths_script,
    relays_shape,
    running_platform,
    running_probe,
)
from sqlalchemy import Table, create_engine, func, select

from meetings_api.database import AUDIT as MEETINGS_AUDIT
from referral_api.database import AUDIT as REFERRAL_AUDIT
from referral_api.database import EVENTS as REFERRAL_EVENTS
from risk_api.database import EVENTS as RISK_EVENTS
from safeguarding_kit.db import normalise_url
from safeguarding_kit.events import DEAD, PENDING, EventTables

AIM_RATIO, AIM_CONNECTIONS = 0.5, 16
SEED_CONCURRENCY = 8
GIVEN = ["Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Sophia", "Grace", "Freya", "Ruby",
         "Evie", "Noah", "Oliver", "George", "Leo", "Harry", "Jack", "Charlie", "Theo"]  # fmt: skip
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
          "Robinson", "Wright", "Thompson", "Evans", "Walker", "Khan", "Hussain", "Okafor", "Mensah",
          "Kowalski", "Nowak", "Murphy", "Kelly", "Hughes", "Turner", "Cooper"]  # fmt: skip
CONCERNS = ["sexual_exploitation", "criminal_exploitation", "county_lines", "trafficking"]


def referral_body(n: int, run: str) -> dict[str, object]:
    """A referral with an exploitation concern about child number ``n`` of this run: a
    name and birth date of its own, so that no two are matched as the same child."""
    born = date.today() - timedelta(days=3700 + (n * 389) % 2500)
    return {
        "source_reference": f"READS-{run}-{n}",
        "child": {
            "given_name": GIVEN[n % len(GIVEN)],
            "family_name": FAMILY[(n // len(GIVEN)) % len(FAMILY)],
            "date_of_birth": born.isoformat(),
            "gender": "female" if n % 2 else "male",
            "school": "Hillsborough Academy",
        },
        "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
        "concern_types": [CONCERNS[n % len(CONCERNS)]],
        "summary": "Seen getting into cars with older males after school.",
        "lawful_basis": {"basis": "consent"},
        "urgency": "urgent",
    }


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, "
            f"not {status}: {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def each(jobs: list[Callable[[], Awaitable[str]]]) -> list[str]:
    """Runs the jobs, SEED_CONCURRENCY at a time; their results in order."""
    limit = asyncio.Semaphore(SEED_CONCURRENCY)

    async def one(job: Callable[[], Awaitable[str]]) -> str:
        async with limit:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def post_referrals(base_url: str, token: str, bodies: list[dict[str, object]], key: str) -> list[str]:
    """Posts each referral; ``key`` of each answer (its ``id``, its ``child_id``)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:

        def job(body: dict[str, object]) -> Callable[[], Awaitable[str]]:
            async def post() -> str:
                made = expect(await client.post("/api/v1/referrals", json=body), 201)
                return str(made[key])

            return post

        return await each([job(body) for body in bodies])


async def assess_high(base_url: str, token: str, child_ids: list[str]) -> None:
    """An assessment putting each child at high risk, on the screening their referral opened."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:

        def job(child_id: str) -> Callable[[], Awaitable[str]]:
            async def assess() -> str:
                risk = await client.get(f"/api/v1/risk/children/{child_id}")
                expect(risk, 200)
                expect(
                    await client.post(
                        f"/api/v1/risk/children/{child_id}/assessments",
                        headers={"If-Match": risk.headers["etag"]},
                        json={
                            "answers": [
                                {"indicator_code": "disclosure_sexual_exploitation", "answer": "present"}
                            ]
                        },
                    ),
                    201,
                )
                return child_id

            return assess

        await each([job(child_id) for child_id in child_ids])


def next_mace(base_url: str, token: str) -> str:
    """A weekly MACE from tomorrow, chaired by the hub: the id of its first meeting."""
    tomorrow = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        series = expect(
            client.post(
                "/api/v1/meetings/series",
                json={
                    "meeting_type": "MACE",
                    "title": "Bench MACE",
                    "chair_agency": HUB["agency"],
                    "first_meeting_local": f"{tomorrow.isoformat()}T10:00:00",
                    "rrule": "FREQ=WEEKLY",
                    "quorum_agency_types": ["social_care", "police", "health"],
                },
            ),
            201,
        )
        occurrences = expect(client.get(f"/api/v1/meetings/series/{series['id']}/occurrences"), 200)
        return str(occurrences["items"][0]["id"])


def agenda_children(base_url: str, token: str, occurrence_id: str) -> tuple[int, int]:
    """The agenda's items and the children on them, read page by page."""
    items, children, cursor = 0, set(), None
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = expect(
                client.get(f"/api/v1/meetings/occurrences/{occurrence_id}/agenda", params=params), 200
            )
            items += len(page["items"])
            children |= {c for item in page["items"] for c in item["child_ids"]}
            cursor = page["next_cursor"]
            if cursor is None:
                return items, len(children)


def wait_for_relay(database_url: str, tables: EventTables, what: str, timeout: float = 180) -> None:
    """Until the service's outbox has no delivery pending: the events reached their subscribers."""
    deliveries = tables.deliveries
    engine = create_engine(normalise_url(database_url))
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                counts: dict[str, int] = dict(
                    conn.execute(
                        select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
                    ).all()
                )
            if not counts.get(PENDING):
                if counts.get(DEAD):
                    raise RuntimeError(f"{counts[DEAD]} of {what} went to the dead letters")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{counts[PENDING]} of {what} still pending after {timeout:.0f} s")
            time.sleep(0.5)
    finally:
        engine.dispose()


def audit_count(
    database_url: str, log: Table, *, action: str | None = None, resource_type: str | None = None
) -> int:
    """Records in a service's audit log (of one action on one resource type)."""
    query = select(func.count()).select_from(log)
    if action is not None:
        query = query.where(log.c.action == action)
    if resource_type is not None:
        query = query.where(log.c.resource_type == resource_type)
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


@dataclass
class Read:
    """One read measured, and what its audit log says of it."""

    name: str
    connections: int
    load: Load
    audited: int  # records the audit log grew by
    per_read: int  # records each answered read must write
    aim: bool  # the issue's >= 0.5x applies

    @property
    def answered_200(self) -> int:
        return self.load.run.statuses[200]

    @property
    def audit_ok(self) -> bool:
        """One record set per 200 (reads wrk dropped in flight may have finished too), and
        no answer but 200."""
        run = self.load.run
        whole, rest = divmod(self.audited, self.per_read)
        return (
            rest == 0
            and self.answered_200 <= whole <= self.answered_200 + run.unanswered
            and not run.others(200)
        )


def measure_read(
    name: str,
    url: str,
    paths: list[str],
    token: str,
    measured: Measured,
    count: Callable[[], int],
    args: argparse.Namespace,
    workdir: Path,
    *,
    method: str = "GET",
    connections: int | None = None,
    per_read: int = 1,
    aim: bool = False,
    timeout_seconds: int = 10,
) -> Read:
    connections = connections or args.connections
    before: list[int] = []
    load = measure(
        url,
        lambda _phase, answers: paths_script(answers, token, paths, method),
        workdir,
        measured,
        args.server,
        seconds=args.seconds,
        warmup_seconds=args.warmup_seconds,
        connections=connections,
        threads=max(1, min(args.threads, connections)),
        timeout_seconds=timeout_seconds,
        before=lambda: before.append(count()),
    )
    time.sleep(1)  # reads wrk dropped at the stop finish before counting
    return Read(name, connections, load, count() - before[0], per_read, aim)


def report(args: argparse.Namespace, reads: list[Read], agenda: tuple[int, int]) -> bool:
    """Prints each read against the probe's; True if the issue's aim is met."""
    probe = reads[0].load.run
    print(
        f"Reads: PostgreSQL, wrk up to {args.threads} thread(s) x {args.connections} connections "
        f"(agenda builds: {args.agenda_connections}), {args.seconds} s each after {args.warmup_seconds} s "
        f"warm-up, through the gateway (the probe directly); {args.service_workers} worker(s) per service, "
        f"{relays_shape(args)}; "
        f"{args.children} children seeded with a "
        f"referral and high risk; agenda of {agenda[0]} items about {agenda[1]} children"
    )
    print(
        f"  {'':<40} {'conns':>5} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'x probe':>8}   answers; audit records"
    )
    for read in reads:
        run, lat = read.load.run, read.load.run.latency_ms
        ratio = run.rate_of(200) / probe.rate_of(200) if probe.rate_of(200) else 0.0
        answers = ", ".join(f"{n:,} {status}" for status, n in sorted(run.statuses.items())) or "none"
        errors = sum(run.socket_errors.values())
        print(
            f"  {read.name:<40} {read.connections:>5} {run.rate_of(200):>7,.1f} {lat['50']:>8.1f} "
            f"{lat['95']:>8.1f} {lat['99']:>8.1f} {lat['max']:>8.1f} {ratio:>7.2f}x   {answers}"
            f"{f' ({errors} socket errors)' if errors else ''}; +{read.audited:,} "
            f"({read.per_read} per 200, up to {run.unanswered} in flight at the stop): "
            f"{'ok' if read.audit_ok else 'NOT AS EXPECTED'}"
        )
    print("  CPU ms per read (each process; rest of machine = others' work, wrk's own left out):")
    for read in reads:
        run = read.load.run
        if run.answered:
            rest = read.load.cpu.get("rest of machine", 0.0)
            print(
                f"    {read.name:<38} {cpu_line(cpu_per_request(read.load.cpu, run.answered))}"
                f" (rest of machine {rest:.1f} s of the run)"
            )
    parts = {}
    for read in reads:
        if read.aim:
            ratio = read.load.run.rate_of(200) / probe.rate_of(200) if probe.rate_of(200) else 0.0
            parts[f"{read.name} >= {AIM_RATIO}x ({ratio:.2f}x)"] = ratio >= AIM_RATIO
    parts[f"at {AIM_CONNECTIONS} connections ({args.connections})"] = args.connections == AIM_CONNECTIONS
    parts["each read audited"] = all(read.audit_ok for read in reads)
    met = all(parts.values())
    print(f"  aim (issue 18)  {'; '.join(parts)}: {'met' if met else 'not met'}")
    return met


def seed(
    platform: Platform, hub: str, probe: Probe, run: str, children: int
) -> tuple[list[str], list[str], str]:
    """The platform's children (with referrals and high risk) and a MACE, the probe's referrals."""
    started = time.monotonic()
    gateway = platform.stack.config.gateway_url
    bodies = [referral_body(n, run) for n in range(children)]
    child_ids = asyncio.run(post_referrals(gateway, platform.token, bodies, "child_id"))
    if len(set(child_ids)) != children:
        raise RuntimeError(f"{children} referrals made only {len(set(child_ids))} children")
    probe_ids = asyncio.run(post_referrals(probe.url, platform.token, bodies, "id"))
    occurrence = next_mace(gateway, hub)
    urls = platform.database_urls
    wait_for_relay(urls["referral-api"], REFERRAL_EVENTS, "the referrals' events")  # screenings open
    asyncio.run(assess_high(gateway, hub, child_ids))
    wait_for_relay(urls["risk-api"], RISK_EVENTS, "the risk changes' events")  # onto the next MACE
    print(
        f"(seeded {children} children, their referrals and risk, a MACE, in {time.monotonic() - started:.0f} s)"
    )
    return child_ids, probe_ids, occurrence


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=15, help="each measured run (default 15)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument(
        "--agenda-connections", type=int, default=2, help="wrk connections building agendas (default 2)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--children", type=int, default=200, help="children seeded (default 200)")
    add_relays_option(parser)
    parser.add_argument(
        "--service-workers",
        type=int,
        default=1,
        help="worker processes of each service (their WORKERS; default 1)",
    )
    parser.add_argument(
        "--warmup-seconds", type=int, default=2, help="unmeasured run before each (default 2)"
    )
    parser.add_argument(
        "--probe-driver",
        choices=PROBE_DRIVERS,
        default=PROBE_DRIVERS[0],
        help=f"the probe's PostgreSQL driver under SQLAlchemy's async engine (default {PROBE_DRIVERS[0]})",
    )
    args = parser.parse_args(argv)
    args.server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds through the clean-ups below

    signal.signal(signal.SIGTERM, stop)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp, ExitStack() as running:
        workdir = Path(tmp)
        platform = running.enter_context(
            running_platform(
                args.server,
                workdir,
                1,
                "",
                run,
                service_workers=args.service_workers,
                separate_relays=not args.relays_in_process,
            )
        )
        probe = running.enter_context(
            running_probe(args.server, workdir, platform.dev_issuer, args.probe_driver)
        )
        hub = platform.mint(HUB)
        child_ids, probe_ids, occurrence = seed(platform, hub, probe, run, args.children)
        gateway = platform.stack.config.gateway_url
        referral_db, meetings_db = (
            platform.database_urls["referral-api"],
            platform.database_urls["meetings-api"],
        )
        generate = f"/api/v1/meetings/occurrences/{occurrence}/agenda/generate"
        # One build unmeasured: the agenda's items are made, later builds find them made.
        with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {hub}"}, timeout=60) as client:
            expect(client.post(generate), 200)
        agenda = agenda_children(gateway, hub, occurrence)

        def read(
            name: str, paths: list[str], measured: Measured, count: Callable[[], int], **kw: Any
        ) -> Read:
            return measure_read(name, gateway if measured is platform else probe.url, paths, hub, measured,
                                count, args, workdir, **kw)  # fmt: skip

        reads = [
            read(
                f"probe read ({args.probe_driver})",
                [f"/api/v1/referrals/{i}" for i in probe_ids],
                probe,
                lambda: probe.count("SELECT count(*) FROM probe_audit WHERE action = 'read'"),
            ),
            read(
                "GET /api/v1/referrals?limit=1",
                ["/api/v1/referrals?limit=1"],
                platform,
                lambda: audit_count(referral_db, REFERRAL_AUDIT.log),
                aim=True,
            ),
            read(
                "GET /api/v1/children/{id}",
                [f"/api/v1/children/{c}" for c in child_ids],
                platform,
                lambda: audit_count(referral_db, REFERRAL_AUDIT.log),
                aim=True,
            ),
            read(
                f"POST .../agenda/generate ({agenda[1]} children)",
                [generate],
                platform,
                lambda: audit_count(
                    meetings_db, MEETINGS_AUDIT.log, action="generate", resource_type="agenda"
                ),
                method="POST",
                connections=args.agenda_connections,
                per_read=agenda[1],
                timeout_seconds=30,
            ),
        ]
        # The aim is reported, not enforced: figures on a shared machine are noisy.
        report(args, reads, agenda)
        if not all(read.audit_ok for read in reads):
            print("a read's audit records are not one set per read answered 200", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything started has been stopped and removed by now
        print("interrupted", file=sys.stderr)
        sys.exit(130)
