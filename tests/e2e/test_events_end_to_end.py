"""Events between the real processes: a referral opens a screening in the risk service,
and a child rising to high risk goes onto the next MACE agenda - with no call from the
test but the referral and the assessment (and reads to see the outcome)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, func, insert, select, update

from meetings_api.database import AUDIT as MEETINGS_AUDIT
from meetings_api.database import EVENTS as MEETINGS_EVENTS
from risk_api.database import EVENTS as RISK_EVENTS
from risk_api.settings import RiskSettings
from safeguarding_kit.db import Database, utc_now
from safeguarding_kit.events import DEAD, DELIVERED, PENDING
from safeguarding_kit.testing import eventually

pytestmark = pytest.mark.e2e
SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "risk_assessor", "meeting_coordinator"],
}


@pytest.fixture(scope="module")
def weekly_mace(stack, stack_tokens):
    """The partnership's one weekly MACE (a second at the same hour would make "the next
    MACE" ambiguous)."""
    tomorrow = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    response = httpx.post(
        stack.config.gateway_url + "/api/v1/meetings/series",
        timeout=15.0,
        headers=stack_tokens.headers(**HUB),
        json={
            "meeting_type": "MACE",
            "title": "Events MACE",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": f"{tomorrow.isoformat()}T10:00:00",
            "rrule": "FREQ=WEEKLY",
            "quorum_agency_types": ["social_care", "police", "health"],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def refer(gateway, tokens, given: str) -> dict:
    body = {
        "child": {
            "given_name": given,
            "family_name": "Evented",
            "date_of_birth": "2011-05-05",
            "gender": "female",
        },
        "referrer": {"name": "Sam Teacher", "role": "DSL"},
        "concern_types": ["sexual_exploitation"],
        "summary": "Seen with older men at the hotel car park.",
        "lawful_basis": {"basis": "consent"},
    }
    response = gateway.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 201, response.text
    return response.json()


def assess_high(gateway, tokens, child_id: str) -> None:
    risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=tokens.headers(**HUB))
    headers = {
        **tokens.headers(**HUB),
        **({"If-Match": risk.headers["etag"]} if risk.status_code == 200 else {}),
    }
    response = gateway.post(
        f"/api/v1/risk/children/{child_id}/assessments",
        headers=headers,
        json={"answers": [{"indicator_code": "disclosure_sexual_exploitation", "answer": "present"}]},
    )
    assert response.status_code == 201, response.text


def next_agenda_child_ids(gateway, tokens, series_id: str) -> list[str]:
    """Every child id on the next MACE's agenda, as often as it appears there."""
    occurrences = gateway.get(
        f"/api/v1/meetings/series/{series_id}/occurrences", headers=tokens.headers(**HUB)
    )
    if occurrences.status_code != 200 or not occurrences.json()["items"]:
        return []
    child_ids: list[str] = []
    cursor = None
    while True:  # every page of the agenda
        agenda = gateway.get(
            f"/api/v1/meetings/occurrences/{occurrences.json()['items'][0]['id']}/agenda",
            params={"limit": 100, **({"cursor": cursor} if cursor else {})},
            headers=tokens.headers(**HUB),
        )
        if agenda.status_code != 200:
            return []
        child_ids += [c for item in agenda.json()["items"] for c in item["child_ids"]]
        cursor = agenda.json()["next_cursor"]
        if cursor is None:
            return child_ids


def next_agenda_children(gateway, tokens, series_id: str) -> set[str]:
    return set(next_agenda_child_ids(gateway, tokens, series_id))


def deliveries_to_meetings(risk_db: Database, children: list[str]) -> list[Any]:
    """The risk service's deliveries of these children's events to the meetings service."""
    d, e = RISK_EVENTS.deliveries, RISK_EVENTS.events
    with risk_db.sessions() as session:
        return list(
            session.execute(
                select(d.c.id, d.c.status, d.c.attempts, e.c.id.label("event_id"), e.c.type)
                .join(e, e.c.seq == d.c.event_seq)
                .where(d.c.subscriber == "meetings-api", d.c.subject.in_(children))
                .order_by(d.c.id)
            ).all()
        )


def test_a_referral_opens_a_screening_and_a_high_assessment_reaches_the_next_mace(
    gateway, stack_tokens, weekly_mace
):
    referral = refer(gateway, stack_tokens, "Eve")
    child_id = referral["child_id"]

    def screening():
        risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB))
        return risk.status_code == 200 and risk.json()["initial_assessment_due"]

    eventually(screening, "the referral opened a screening in the risk service")
    assess_high(gateway, stack_tokens, child_id)
    eventually(
        lambda: child_id in next_agenda_children(gateway, stack_tokens, weekly_mace["id"]),
        "the child went onto the next MACE agenda",
    )


def test_events_wait_for_a_stopped_meetings_service_and_each_is_applied_exactly_once(
    gateway, stack_tokens, stack, weekly_mace, risk_db, meetings_db
):
    children = [refer(gateway, stack_tokens, name)["child_id"] for name in ("Fay", "Gil")]
    for child_id in children:
        eventually(
            lambda c=child_id: (
                gateway.get(f"/api/v1/risk/children/{c}", headers=stack_tokens.headers(**HUB)).status_code
                == 200
            ),
            "screening opened",
        )
    stack.stop("meetings-api")
    try:
        for child_id in children:
            assess_high(gateway, stack_tokens, child_id)
        eventually(
            lambda: (
                (rows := deliveries_to_meetings(risk_db, children))
                and all(r.status == PENDING and r.attempts >= 1 for r in rows)
            ),
            "the relay tried, failed and kept the events while the meetings service was down",
        )
    finally:
        stack.start("meetings-api")
        stack.wait_ready("meetings-api")
    eventually(
        lambda: set(children) <= next_agenda_children(gateway, stack_tokens, weekly_mace["id"]),
        "both children reached the agenda after the restart",
    )
    eventually(
        lambda: all(r.status == DELIVERED for r in deliveries_to_meetings(risk_db, children)),
        "the risk service recorded every delivery as made",
    )
    delivered = deliveries_to_meetings(risk_db, children)
    sent = {str(r.event_id) for r in delivered}
    assert {r.type for r in delivered} == {"risk.level_changed"}
    assert len(sent) == len(children)  # one level change each (none to high before)

    # At least once means a delivery may come again (a relay stopped after sending but before
    # recording it): send them all again, and wait until the risk service has.
    d = RISK_EVENTS.deliveries
    with risk_db.sessions() as session:
        session.execute(
            update(d)
            .where(d.c.id.in_([r.id for r in delivered]))
            .values(status=PENDING, next_attempt_at=utc_now())
        )
        session.commit()
    eventually(
        lambda: all(
            r.status == DELIVERED and r.attempts > before.attempts
            for r, before in zip(deliveries_to_meetings(risk_db, children), delivered, strict=True)
        ),
        "every event was delivered a second time",
    )

    # Each child is on the agenda once, whatever was delivered twice.
    on_agenda = Counter(next_agenda_child_ids(gateway, stack_tokens, weekly_mace["id"]))
    assert {c: on_agenda[c] for c in children} == dict.fromkeys(children, 1)
    inbox, log = MEETINGS_EVENTS.inbox, MEETINGS_AUDIT.log
    with meetings_db.sessions() as session:
        # The meetings service's inbox holds each event once...
        received = Counter(
            str(event_id)
            for event_id in session.scalars(
                select(inbox.c.id).where(inbox.c.id.in_([uuid.UUID(e) for e in sent]))
            )
        )
        # ...and applied each once: the consumer audits every agenda item it adds for a child.
        applied = session.scalar(
            select(func.count()).where(
                log.c.actor_sub == "system:events",
                log.c.resource_type == "agenda_item",
                log.c.child_id.in_([uuid.UUID(c) for c in children]),
            )
        )
    assert received == dict.fromkeys(sent, 1)
    assert applied == len(sent)


def test_a_service_killed_between_writing_a_change_and_delivering_its_event_loses_nothing(
    gateway, stack_tokens, stack
):
    # With the risk service down, the referral's event can only wait in the outbox...
    stack.stop("risk-api")
    try:
        child_id = refer(gateway, stack_tokens, "Hal")["child_id"]
        time.sleep(1)  # the relay tries and backs off
        # ...and then the referral service dies without any chance to flush or finish.
        stack.kill("referral-api")
    finally:
        stack.start("risk-api")
        stack.start("referral-api")
        stack.wait_ready("risk-api")
        stack.wait_ready("referral-api")
    eventually(
        lambda: (
            gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB)).status_code
            == 200
        ),
        "the restarted referral service delivered the waiting event: a screening opened",
    )


class ProbeReceiver:
    """Extra subscribers on a local port: ``/flaky`` is unavailable (503) for its first
    delivery and takes the next, ``/refuses`` always answers 500 (a receiver that is reached
    and refuses is dead-lettered after the last try; one that cannot be reached is not)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                probe.calls[self.path] += 1
                refused = self.path == "/refuses"
                unavailable = self.path == "/flaky" and probe.calls[self.path] == 1
                self.send_response(500 if refused else 503 if unavailable else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def probe() -> Iterator[ProbeReceiver]:
    receiver = ProbeReceiver()
    yield receiver
    receiver.close()


def relay_metrics(stack, service: str) -> dict[tuple[str, str], float]:
    """``events_total{outcome}`` and ``outbox_deliveries{status}`` of one service, read from
    its own ``/metrics`` (the gateway does not route it)."""
    text = httpx.get(stack.config.url_of(service) + "/metrics", timeout=5.0).text
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service") != service:
                continue
            if sample.name == "events_total":
                found["events_total", sample.labels["outcome"]] = sample.value
            elif sample.name == "outbox_deliveries":
                found["outbox_deliveries", sample.labels["status"]] = sample.value
    return found


def delivery_counts(risk_db: Database) -> dict[str, int]:
    d = RISK_EVENTS.deliveries
    with risk_db.sessions() as session:
        return dict(session.execute(select(d.c.status, func.count()).group_by(d.c.status)).all())


def test_metrics_count_deliveries_retries_and_dead_letters(
    gateway, stack_tokens, stack, weekly_mace, risk_db, probe
):
    max_attempts = int(
        stack.config.extra_env.get(
            "EVENTS_MAX_ATTEMPTS", RiskSettings.model_fields["events_max_attempts"].default
        )
    )
    eventually(lambda: PENDING not in delivery_counts(risk_db), "the risk service's outbox is quiet")
    before = relay_metrics(stack, "risk-api")
    child_id = refer(gateway, stack_tokens, "Ida")["child_id"]
    eventually(
        lambda: (
            gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB)).status_code
            == 200
        ),
        "screening opened",
    )
    assess_high(gateway, stack_tokens, child_id)  # its level change goes to the meetings service
    d, e = RISK_EVENTS.deliveries, RISK_EVENTS.events
    probes = {"metrics-probe-flaky", "metrics-probe-dead", "metrics-probe-later"}
    try:
        # The same child's risk.assessed event to three more subscribers (each a lane of its own):
        # one that fails once and is retried, one on its last try to a receiver that refuses it,
        # and one not due for an hour.
        with risk_db.sessions() as session:
            seq = session.scalar(select(e.c.seq).where(e.c.subject == child_id, e.c.type == "risk.assessed"))
            now = utc_now()
            lane = {"event_seq": seq, "subject": child_id, "status": PENDING, "next_attempt_at": now}
            session.execute(
                insert(d),
                [
                    {**lane, "subscriber": "metrics-probe-flaky", "url": probe.url + "/flaky", "attempts": 0},
                    {
                        **lane,
                        "subscriber": "metrics-probe-dead",
                        "url": probe.url + "/refuses",
                        "attempts": max_attempts - 1,
                    },
                    {
                        **lane,
                        "subscriber": "metrics-probe-later",
                        "url": probe.url + "/later",
                        "attempts": 0,
                        "next_attempt_at": now + timedelta(hours=1),
                    },
                ],
            )
            session.commit()

        def outcomes() -> dict[str, str]:
            with risk_db.sessions() as session:
                return dict(
                    session.execute(
                        select(d.c.subscriber, d.c.status).where(
                            d.c.subject == child_id,
                            d.c.subscriber.in_([*probes, "meetings-api", "referral-api"]),
                        )
                    ).all()
                )

        settled = {
            "meetings-api": DELIVERED,
            # risk.assessed and risk.level_changed: a support's levels, the child's chronology
            "referral-api": DELIVERED,
            "metrics-probe-flaky": DELIVERED,
            "metrics-probe-dead": DEAD,
            "metrics-probe-later": PENDING,
        }
        eventually(lambda: outcomes() == settled, "the deliveries settled")
        assert (probe.calls["/flaky"], probe.calls["/refuses"], probe.calls["/later"]) == (2, 1, 0)
        in_database = delivery_counts(risk_db)
        assert in_database[PENDING] == 1  # the one not due yet

        def counted() -> dict[tuple[str, str], float]:
            now = relay_metrics(stack, "risk-api")
            return {
                **{
                    ("events_total", o): now.get(("events_total", o), 0) - before.get(("events_total", o), 0)
                    for o in ("delivered", "failed", "dead")
                },
                **{("outbox_deliveries", s): now.get(("outbox_deliveries", s)) for s in (PENDING, DEAD)},
            }

        expected = {
            # to the meetings service (risk.level_changed), to the referral service
            # (risk.assessed and risk.level_changed), and the flaky one's retry
            ("events_total", "delivered"): 4,
            ("events_total", "failed"): 1,  # the flaky one's first try
            ("events_total", "dead"): 1,  # the last try of the one whose receiver refuses it
            ("outbox_deliveries", PENDING): in_database[PENDING],
            ("outbox_deliveries", DEAD): in_database[DEAD],
        }
        # The gauge is refreshed every few seconds by the relay; the counters at once.
        try:
            eventually(lambda: counted() == expected, "/metrics showed the relay's work")
        except AssertionError:
            assert counted() == expected
    finally:
        with risk_db.sessions() as session:
            session.execute(delete(d).where(d.c.subscriber.in_(probes)))
            session.commit()
