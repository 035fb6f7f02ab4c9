"""Two replicas of every process on PostgreSQL and Redis keep the platform's guarantees.

Two gateways, each spreading every route over two replicas of each service (the second
referral replica itself runs two worker processes), all real processes speaking HTTP with
real signed tokens. Each replica's outbox relay is a process of its own beside it, as in a
cluster's relay Deployments, except the second referral replica's two workers, which relay
themselves as well (the shape a rolling change between the two lands in). Referrals about
the same children are created and moved on through both gateways and so through both
referral replicas, whose relays (four of them, two processes of their own and two worker
threads) deliver from the one outbox; yet each child's events reach each receiver once and
in the order they were written. Twenty retries with one Idempotency-Key, all at once across the
replicas, make one referral. A client's rate limit is one budget whichever gateway it
calls. Every service's audit chain, appended by both of its replicas at once, verifies.

PostgreSQL only: a SQLite database is served by one process (the settings refuse WORKERS
above 1 on it, devstack refuses replicas), so there is nothing to show there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from devstack.stack import Stack, StackConfig, free_port, prepare
from meetings_api.database import EVENTS as MEETINGS_EVENTS
from referral_api.database import EVENTS as REFERRAL_EVENTS
from referral_api.referrals.models import Referral
from risk_api.database import EVENTS as RISK_EVENTS
from safeguarding_kit.cloudevents import CLOUDEVENTS_BATCH_JSON
from safeguarding_kit.db import Database, normalise_url
from safeguarding_kit.events import DELIVERED, verify_signature
from safeguarding_kit.settings import DEV_EVENTS_SECRET
from safeguarding_kit.testing import TokenFactory, eventually, loopback_server
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database


def on_postgresql() -> bool:
    url = os.environ.get(TEST_DATABASE_URL_ENV, "")
    return bool(url) and make_url(normalise_url(url)).drivername.startswith("postgresql")


pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not on_postgresql(),
        reason="replicas share each service's database, which must be PostgreSQL (TEST_DATABASE_URL "
        "names no PostgreSQL server): a SQLite database is served by one process",
    ),
]

SERVICES = ("referral-api", "risk-api", "meetings-api")
CHILDREN = 4
# Per client; an hour's window, so that the sliding window's drift over the test's few
# seconds cannot let a request more through.
READS_PER_HOUR = 20
SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "manager", "risk_assessor", "meeting_coordinator"],
}
AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
WITNESSED = ("referral.received", "referral.status_changed", "child.agency_linked")


class Witness:
    """A subscriber of the referral service's events on a local port: checks each
    signature and records every delivery that reaches it, repeats included, in the order
    they arrive (a batch's events in the batch's order), answering as a platform service
    does."""

    def __init__(self) -> None:
        self.arrived: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        witness = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = verify_signature(
                    DEV_EVENTS_SECRET, {k.lower(): v for k, v in self.headers.items()}, body
                )
                batch = self.headers["Content-Type"] == CLOUDEVENTS_BATCH_JSON
                events = json.loads(body) if batch else [json.loads(body)]
                with witness.lock:
                    if signed:
                        witness.arrived.extend(events)
                    else:
                        witness.bad_signatures += 1
                answer = b""
                if signed and batch:
                    answer = json.dumps(
                        {"results": [{"id": e["id"], "status": 204} for e in events]}
                    ).encode()
                self.send_response((200 if batch else 204) if signed else 401)
                self.send_header("Content-Length", str(len(answer)))
                if answer:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server, base = loopback_server(Handler)
        self.url = base + "/internal/events"

    def ids_by_child(self) -> dict[str, list[str]]:
        with self.lock:
            arrived = list(self.arrived)
        found: dict[str, list[str]] = defaultdict(list)
        for event in arrived:
            found[event["subject"]].append(event["id"])
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class WitnessedStackConfig(StackConfig):
    """The stack, with every referral event also delivered to the test's witness."""

    witness_url: str = ""

    def subscribers(self, name: str, replica: int = 1) -> list[dict[str, object]]:
        found = super().subscribers(name, replica)
        if name == "referral-api":
            found.append({"name": "witness", "url": self.witness_url, "types": list(WITNESSED)})
        return found


def redis_answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The Redis at 127.0.0.1:6379, or one of the test's own when none answers there."""
    if redis_answers(6379):
        yield "async+redis://127.0.0.1:6379"
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("the gateways share rate limits through Redis: start it at 127.0.0.1:6379 (redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        eventually(lambda: redis_answers(port), "the test's Redis started", seconds=10)
        yield f"async+redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def witness() -> Iterator[Witness]:
    receiver = Witness()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory, witness: Witness, redis_url: str) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("replicas")
    with ExitStack() as cleanup:
        config = WitnessedStackConfig.on_free_ports(
            data_dir,
            replicas=2,
            witness_url=witness.url,
            database_urls={
                name: cleanup.enter_context(provisioned_database(name, data_dir)) for name in SERVICES
            },
            rate_limit_storage_url=redis_url,
            log_dir=data_dir / "logs",
            extra_env={
                "RATE_LIMIT_KEY_PREFIX": f"replicas-test-{uuid.uuid4().hex}",
                "RATE_LIMIT_READS": f"{READS_PER_HOUR}/hour",
                "RATE_LIMIT_WRITES": "1000/minute",
                "UPSTREAM_TIMEOUT_SECONDS": "10",
                # Seven service processes of 9 connections at most: within PostgreSQL's 100.
                "DATABASE_POOL_SIZE": "9",
            },
            separate_relays=True,
            # The second referral replica runs two worker processes, each relaying too: with the
            # two relay processes, four relays share the referral service's outbox.
            process_env={"referral-api-2": {"WORKERS": "2", "EVENTS_RELAY_ENABLED": "true"}},
        )
        prepare(config)
        stack = Stack(config)
        cleanup.callback(stack.stop_all)
        stack.start_all()
        stack.wait_all_ready(timeout=60)
        yield stack


@pytest.fixture(scope="module")
def replica_tokens(replicated: Stack) -> TokenFactory:
    """Tokens signed by the replicated stack's dev issuer key."""
    return TokenFactory(replicated.config.data_dir / "dev-issuer")


@pytest.fixture(scope="module")
def gateways(replicated: Stack) -> Iterator[list[httpx.Client]]:
    with ExitStack() as cleanup:
        yield [
            cleanup.enter_context(httpx.Client(base_url=url, timeout=20.0))
            for url in replicated.config.gateway_urls
        ]


def database_of(stack: Stack, name: str) -> Database:
    return Database(stack.config.database_url(next(s for s in stack.config.services if s.name == name)))


@pytest.fixture(scope="module")
def databases(replicated: Stack) -> Iterator[dict[str, Database]]:
    found = {name: database_of(replicated, name) for name in SERVICES}
    yield found
    for database in found.values():
        database.dispose()


def created(response: httpx.Response) -> tuple[dict[str, Any], str]:
    """A 201's body and its ETag."""
    assert response.status_code == 201, response.text
    return dict(response.json()), response.headers["etag"]


def moved_on(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def referral_body(**child: Any) -> dict[str, Any]:
    return {
        **child,
        "referrer": {"name": "Sam Teacher", "role": "DSL"},
        "concern_types": ["criminal_exploitation"],
        "summary": "Seen being dropped off by unknown adults late at night.",
        "lawful_basis": {"basis": "consent"},
    }


def metric_total(url: str, name: str, **labels: str) -> int:
    """The sum of the samples of metric ``name`` at ``url``'s /metrics whose labels start
    with the values given (``route`` by prefix, any other label exactly)."""
    text = httpx.get(url + "/metrics", timeout=5.0).text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
            and all(sample.labels.get(label, "").startswith(value) for label, value in labels.items())
        )
    )


def referral_replicas_in_rotation(gateway: httpx.Client) -> int:
    """How many referral replicas ``gateway`` sends requests to now."""
    return metric_total(
        str(gateway.base_url).rstrip("/"), "gateway_upstream_replica_in_rotation", upstream="referral-api"
    )


def served(stack: Stack, process: str, method: str, route_prefix: str) -> int:
    """How many requests one single-worker replica answered with ``method`` on routes under
    ``route_prefix``, from its own /metrics."""
    return metric_total(
        stack.config.url_of(process), "http_requests_total", method=method, route=route_prefix
    )


def written_by_child(
    database: Database, tables: Any, children: list[str], types: tuple[str, ...]
) -> dict[str, list[str]]:
    """Each child's events of ``types``, in the order the service wrote them."""
    e = tables.events
    with database.sessions() as session:
        rows = session.execute(
            select(e.c.subject, e.c.id)
            .where(e.c.subject.in_(children), e.c.type.in_(types))
            .order_by(e.c.seq)
        ).all()
    found: dict[str, list[str]] = defaultdict(list)
    for subject, event_id in rows:
        found[subject].append(str(event_id))
    return found


def deliveries_to(database: Database, tables: Any, subscriber: str, children: list[str]) -> list[Any]:
    """A subscriber's deliveries of these children's events: status and tries."""
    d = tables.deliveries
    with database.sessions() as session:
        return list(
            session.execute(
                select(d.c.status, d.c.attempts).where(
                    d.c.subscriber == subscriber, d.c.subject.in_(children)
                )
            ).all()
        )


def delivered(database: Database, tables: Any, subscriber: str, children: list[str]) -> bool:
    rows = deliveries_to(database, tables, subscriber, children)
    return bool(rows) and all(r.status == DELIVERED for r in rows)


def received_by_child(database: Database, tables: Any, written: dict[str, list[str]]) -> dict[str, list[str]]:
    """The events a consumer's inbox holds of those ``written``, per child, in the order they
    arrived."""
    inbox = tables.inbox
    child_of = {event_id: child for child, ids in written.items() for event_id in ids}
    with database.sessions() as session:
        rows = session.execute(
            select(inbox.c.id)
            .where(inbox.c.id.in_([uuid.UUID(event_id) for event_id in child_of]))
            .order_by(inbox.c.received_at)
        ).all()
    found: dict[str, list[str]] = defaultdict(list)
    for (event_id,) in rows:
        found[child_of[str(event_id)]].append(str(event_id))
    return found


@pytest.fixture(scope="module")
def weekly_mace(gateways: list[httpx.Client], replica_tokens: TokenFactory) -> dict[str, Any]:
    """The partnership's weekly MACE: a child whose risk turns high goes on its next agenda."""
    tomorrow = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    series, _ = created(
        gateways[0].post(
            "/api/v1/meetings/series",
            headers=replica_tokens.headers(**HUB),
            json={
                "meeting_type": "MACE",
                "title": "Replicas MACE",
                "chair_agency": "sheffield-social-care",
                "first_meeting_local": f"{tomorrow.isoformat()}T10:00:00",
                "rrule": "FREQ=WEEKLY",
                "quorum_agency_types": ["social_care", "police", "health"],
            },
        )
    )
    return series


STEPS_PER_CHILD = 5  # two referrals, three moves in the workflow


@dataclass(frozen=True)
class Referred:
    children: list[str]
    taken_by_first_replica: int  # of the CHILDREN x STEPS_PER_CHILD writes


@pytest.fixture(scope="module")
def referred(
    replicated: Stack, gateways: list[httpx.Client], replica_tokens: TokenFactory, weekly_mace: dict[str, Any]
) -> Referred:
    """Children side by side, each referred twice (by a school, then the hub) and its
    referrals screened and decided, every step through the other gateway from the one before
    it: the gateways spread them over both referral replicas."""
    first, second = gateways
    school, hub = replica_tokens.headers(**SCHOOL), replica_tokens.headers(**HUB)
    # Both gateways send to both referral replicas (a replica slow to answer /readyz on a busy
    # machine is out of rotation for a while, and back at the next check).
    eventually(
        lambda: all(referral_replicas_in_rotation(gateway) == 2 for gateway in gateways),
        "both gateways have both referral replicas in rotation",
        seconds=30,
    )

    def one_child(n: int) -> str:
        child = {
            "given_name": f"Rep{n}",
            "family_name": "Licas",
            "date_of_birth": "2010-02-02",
            "gender": "male",
        }
        referral, etag = created(
            first.post("/api/v1/referrals", headers=school, json=referral_body(child=child))
        )
        child_id = str(referral["child_id"])
        again, again_etag = created(
            second.post("/api/v1/referrals", headers=hub, json=referral_body(child_id=child_id))
        )
        steps = f"/api/v1/referrals/{referral['id']}/transitions"
        etag = moved_on(second.post(steps, headers={**hub, "If-Match": etag}, json={"to": "screening"}))
        decision = {"to": "no_further_action", "reason": "Family support already in place."}
        moved_on(first.post(steps, headers={**hub, "If-Match": etag}, json=decision))
        moved_on(
            second.post(
                f"/api/v1/referrals/{again['id']}/transitions",
                headers={**hub, "If-Match": again_etag},
                json={"to": "screening"},
            )
        )
        return child_id

    before = served(replicated, "referral-api", "POST", "/api/v1/referrals")
    with ThreadPoolExecutor(CHILDREN) as pool:
        children = list(pool.map(one_child, range(CHILDREN)))
    return Referred(children, served(replicated, "referral-api", "POST", "/api/v1/referrals") - before)


@pytest.fixture(scope="module")
def children(referred: Referred) -> list[str]:
    return referred.children


def test_each_child_s_events_reach_each_receiver_once_and_in_the_order_written(
    replicated, gateways, replica_tokens, databases, witness, referred
):
    children = referred.children
    # Both referral replicas wrote them: the first (one worker) took some of the writes, not all.
    assert 0 < referred.taken_by_first_replica < CHILDREN * STEPS_PER_CHILD
    referral_db, risk_db, meetings_db = (databases[name] for name in SERVICES)
    written = written_by_child(referral_db, REFERRAL_EVENTS, children, WITNESSED)
    assert set(written) == set(children)
    assert all(len(ids) >= STEPS_PER_CHILD for ids in written.values()), written  # and agency links

    # The witness hears every event of every child once, each child's in the order written,
    # whichever of the four relays (the two relay processes, the second replica's two workers) sent it.
    eventually(
        lambda: delivered(referral_db, REFERRAL_EVENTS, "witness", children),
        "the referral service delivered every event to the witness",
    )
    assert witness.bad_signatures == 0
    assert {child: witness.ids_by_child()[child] for child in children} == written
    assert {r.attempts for r in deliveries_to(referral_db, REFERRAL_EVENTS, "witness", children)} == {1}

    # The risk service (its two replicas, each hearing from one referral replica) applies
    # what it subscribes to once each, in order: its inbox holds each once, in the order written.
    to_risk = written_by_child(
        referral_db, REFERRAL_EVENTS, children, ("referral.received", "child.agency_linked")
    )
    eventually(
        lambda: delivered(referral_db, REFERRAL_EVENTS, "risk-api", children),
        "the referral service delivered every event to the risk service",
    )
    assert received_by_child(risk_db, RISK_EVENTS, to_risk) == to_risk
    assert {r.attempts for r in deliveries_to(referral_db, REFERRAL_EVENTS, "risk-api", children)} == {1}
    assert served(replicated, "risk-api", "POST", "/internal/events") > 0
    assert served(replicated, "risk-api-2", "POST", "/internal/events") > 0

    # Each child's risk, assessed high through both gateways and so both risk replicas: each
    # child's level change reaches the meetings service (and the next MACE's agenda) once.
    hub = replica_tokens.headers(**HUB)
    for n, child_id in enumerate(children):
        gateway = gateways[n % 2]
        risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=hub)
        assert risk.status_code == 200, risk.text  # the referral opened a screening
        created(
            gateway.post(
                f"/api/v1/risk/children/{child_id}/assessments",
                headers={**hub, "If-Match": risk.headers["etag"]},
                json={"answers": [{"indicator_code": "disclosure_sexual_exploitation", "answer": "present"}]},
            )
        )
    eventually(
        lambda: delivered(risk_db, RISK_EVENTS, "meetings-api", children),
        "the risk service delivered every level change to the meetings service",
    )
    to_meetings = written_by_child(risk_db, RISK_EVENTS, children, ("risk.level_changed",))
    assert set(to_meetings) == set(children)
    assert received_by_child(meetings_db, MEETINGS_EVENTS, to_meetings) == to_meetings
    assert all(len(ids) == 1 for ids in to_meetings.values())


def test_twenty_retries_at_once_with_one_idempotency_key_across_the_replicas_make_one_referral(
    gateways, replica_tokens, databases
):
    key = str(uuid.uuid4())
    body = referral_body(
        child={
            "given_name": "Burst",
            "family_name": "Retried",
            "date_of_birth": "2009-09-09",
            "gender": "female",
        }
    )
    headers = {
        **replica_tokens.headers(**SCHOOL, sub="nightly-sync@sheffield-schools"),
        "Idempotency-Key": key,
    }
    start = threading.Barrier(20)

    def post_until_answered(n: int) -> httpx.Response:
        gateway = gateways[n % 2]
        start.wait()
        deadline = time.monotonic() + 30
        while True:
            response = gateway.post("/api/v1/referrals", headers=headers, json=body)
            if response.status_code != 409 or time.monotonic() > deadline:
                return response
            assert "retry-after" in response.headers  # the first is still being made
            time.sleep(0.2)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post_until_answered, range(20)))

    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len({a.content for a in answers}) == 1  # the first answer, again
    child_id = answers[0].json()["child_id"]
    referral_db = databases["referral-api"]
    with referral_db.sessions() as session:
        assert session.scalar(select(func.count()).where(Referral.child_id == uuid.UUID(child_id))) == 1
    received = written_by_child(referral_db, REFERRAL_EVENTS, [child_id], ("referral.received",))
    assert len(received[child_id]) == 1  # announced once


def test_a_client_s_read_budget_is_one_across_both_gateways(gateways, replica_tokens):
    client = replica_tokens.headers(
        agency="south-yorkshire-police", agency_type="police", sub=f"poller-{uuid.uuid4()}"
    )
    answers = [
        gateways[n % 2].get("/api/v1/partnership", headers=client).status_code
        for n in range(READS_PER_HOUR + 6)
    ]
    # Counted in each gateway's memory, each would have let READS_PER_HOUR through: none refused.
    assert answers == [200] * READS_PER_HOUR + [429] * 6


def test_every_service_s_audit_chain_verifies_after_both_replicas_appended_at_once(
    replicated, gateways, replica_tokens, children, weekly_mace
):
    # Audited reads of every service through both gateways at once, on top of what the
    # children's referrals, events and assessments appended.
    hub = replica_tokens.headers(**HUB, sub=f"reader-{uuid.uuid4()}")
    occurrences = gateways[0].get(f"/api/v1/meetings/series/{weekly_mace['id']}/occurrences", headers=hub)
    assert occurrences.status_code == 200, occurrences.text
    agenda = f"/api/v1/meetings/occurrences/{occurrences.json()['items'][0]['id']}/agenda"
    # The children reach the agenda by events (risk turned high): on a busy machine the relays
    # may still be at it. An agenda read audits the children on its page, so wait for them.
    eventually(
        lambda: gateways[0].get(agenda, headers=hub).json()["items"],
        "the children reached the MACE agenda",
        seconds=60,
    )
    reads = [
        *(f"/api/v1/children/{child_id}" for child_id in children),
        *(f"/api/v1/risk/children/{child_id}" for child_id in children),
        agenda,
        agenda,
    ]

    def read(n: int) -> int:
        return gateways[n % 2].get(reads[n], headers=hub).status_code

    with ThreadPoolExecutor(len(reads)) as pool:
        assert set(pool.map(read, range(len(reads)))) == {200}

    auditor = replica_tokens.headers(**AUDITOR)
    for service in ("referral", "risk", "meetings"):
        verification = gateways[0].get(f"/api/v1/audit/{service}-service/verification", headers=auditor)
        assert verification.status_code == 200, verification.text
        assert verification.json()["ok"] is True, (service, verification.json())
        assert verification.json()["checked"] > 0
