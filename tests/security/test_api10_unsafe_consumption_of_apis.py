"""OWASP API10:2023 Unsafe consumption of APIs: what the platform takes from other
systems, its own services included, is input like any other.

The services' event inbox (`/internal/events`) applies only events signed with the
shared secret within five minutes, in the CloudEvents 1.0 shape; a signed event that is
not one is 400, one whose data its handler cannot use is 422, and neither is applied (a
500 would make the sender retry a poison message eight times). The meetings service,
building an agenda from the risk and referral services' answers, refuses an answer that
is not what those services document with a clear 502 and writes nothing. Redirects are
never followed, neither by a webhook delivery nor by the agenda's calls.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from owasp_scenarios import one_meeting, webhook_delivery_row

from meetings_api.app import create_app as create_meetings
from meetings_api.database import MIGRATIONS_DIR, VERSION_TABLE
from meetings_api.models import Base
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.events import Undelivered, deliver, sign
from safeguarding_kit.settings import DEV_EVENTS_SECRET
from safeguarding_kit.testing import ServiceSpec, empty_tables

pytestmark = pytest.mark.e2e

INBOXES = ("referral-api", "risk-api", "meetings-api")


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "referral-api",
        "type": "referral.received",
        "subject": str(uuid.uuid4()),
        "time": "2026-11-25T09:00:00Z",
        "datacontenttype": "application/json",
        "data": {},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def signed(
    body: bytes, *, secret: str = DEV_EVENTS_SECRET, stamp: int | None = None, message_id: str | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    message_id = message_id or f"owasp-{uuid.uuid4()}"
    return {
        "content-type": "application/cloudevents+json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, message_id, stamp, body),
    }


@pytest.fixture(scope="module")
def post_event(http, stack) -> Callable[[str, bytes, dict[str, str]], httpx.Response]:
    """``post_event(service, body, headers)``: a delivery straight to a service's inbox."""

    def post(service: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return http.post(stack.config.url_of(service) + "/internal/events", content=body, headers=headers)

    return post


@pytest.mark.parametrize("service", INBOXES)
def test_the_inbox_refuses_unsigned_wrongly_signed_tampered_and_stale_events(post_event, problem, service):
    body = json.dumps(event()).encode()
    good = signed(body)
    now = int(time.time())
    attempts = {
        "unsigned": {"content-type": "application/cloudevents+json"},
        "signed with another secret": signed(body, secret="not-the-platforms-secret-0123456789"),
        "signature of another body": {
            **good,
            "webhook-signature": signed(
                b"{}", message_id=good["webhook-id"], stamp=int(good["webhook-timestamp"])
            )["webhook-signature"],
        },
        "signature of another message id": {**good, "webhook-id": "owasp-another-id"},
        "ten minutes old": signed(body, stamp=now - 600),
        "ten minutes ahead": signed(body, stamp=now + 600),
        "timestamp not a number": {**good, "webhook-timestamp": "soon"},
        "signature scheme v0": {**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v0,")},
        "empty signature": {**good, "webhook-signature": ""},
    }
    for attempt, headers in attempts.items():
        answer = post_event(service, body, headers)
        assert answer.status_code == 401, f"{attempt}: {answer.status_code}"
        problem(answer, 401)
    assert post_event(service, body, good).status_code == 204  # the control: this one is fine


NOT_CLOUDEVENTS = {
    "not JSON": b"<event/>",
    "a JSON list": b"[1, 2, 3]",
    "a JSON string": b'"referral.received"',
    "no specversion": json.dumps(event(specversion=None)).encode(),
    "specversion 0.3": json.dumps(event(specversion="0.3")).encode(),
    "no source": json.dumps(event(source=None)).encode(),
    "no type": json.dumps(event(type=None)).encode(),
    "id a number": json.dumps(event(id=5)).encode(),
    "id not a uuid": json.dumps(event(id="event-1")).encode(),
    "data a string": json.dumps(event(data="child 1")).encode(),
    "time not a time": json.dumps(event(time="yesterday")).encode(),
    "time without a zone": json.dumps(event(time="2026-11-25T09:00:00")).encode(),
}


@pytest.mark.parametrize("service", INBOXES)
@pytest.mark.parametrize("shape", sorted(NOT_CLOUDEVENTS))
def test_a_signed_body_that_is_not_a_cloudevent_is_a_400_problem(post_event, problem, service, shape):
    body = NOT_CLOUDEVENTS[shape]
    refused = problem(post_event(service, body, signed(body)), 400)
    assert refused["type"] == "urn:safeguarding:problem:not-a-cloudevent"


@pytest.fixture(scope="module")
def linked_agency(stack_tokens) -> tuple[str, dict[str, str]]:
    """An agency the tests link to a child by event (no other test uses it)."""
    agency = f"youth-club-owasp-{uuid.uuid4().hex[:8]}"  # known to the agreement by its pattern
    return agency, stack_tokens.headers(agency=agency, agency_type="youth_service", roles=["practitioner"])


def test_a_signed_event_whose_data_its_handler_cannot_use_is_422_and_applied_later_when_right(
    post_event, gateway, problem, police_case, linked_agency
):
    agency, youth = linked_agency
    bad_data = {
        ("risk-api", "referral.received"): [
            {"concern_types": ["sexual_exploitation"]},  # no child
            {"concern_types": ["sexual_exploitation"], "child_id": "child-1"},
        ],
        ("risk-api", "child.agency_linked"): [
            {"child_id": police_case.child_id},
            {"child_id": "x", "agency": agency},
        ],
        ("meetings-api", "risk.level_changed"): [{"to": "high"}, {"to": "high", "child_id": 42}],
    }
    for (service, event_type), payloads in bad_data.items():
        for data in payloads:
            body = json.dumps(event(type=event_type, data=data)).encode()
            refused = problem(post_event(service, body, signed(body)), 422)
            assert refused["type"] == "urn:safeguarding:problem:event-data-invalid", (event_type, data)
    # The event refused was not remembered as applied: sent again, right, it is applied.
    event_id = str(uuid.uuid4())
    wrong = json.dumps(
        event(id=event_id, type="child.agency_linked", data={"child_id": "x", "agency": agency})
    ).encode()
    problem(post_event("risk-api", wrong, signed(wrong)), 422)
    assert gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=youth).status_code == 404
    right = json.dumps(
        event(
            id=event_id, type="child.agency_linked", data={"child_id": police_case.child_id, "agency": agency}
        )
    ).encode()
    assert post_event("risk-api", right, signed(right)).status_code == 204
    assert gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=youth).status_code == 200


MEETINGS_SPEC = ServiceSpec(
    name="meetings-api",
    settings_class=MeetingsSettings,
    create_app=create_meetings,
    metadata=Base.metadata,
    migrations_dir=MIGRATIONS_DIR,
    version_table=VERSION_TABLE,
)
COORDINATOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["meeting_coordinator"],
}


@dataclass
class Built:
    answer: httpx.Response
    agenda_before: list[dict[str, Any]]
    agenda_after: list[dict[str, Any]]
    asked: list[httpx.Request]


@pytest.fixture(scope="module")
def build_agenda(migrated_databases, data_dir, tokens) -> Iterator[Callable[..., Built]]:
    """The meetings service whose risk and referral services answer what a test says;
    ``build_agenda(risk_answer, referral_answer)`` generates a meeting's agenda from them."""
    url = migrated_databases.url_for(MEETINGS_SPEC)
    asked: list[httpx.Request] = []
    answers: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def services(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return answers["risk" if request.url.host == "risk.test" else "referral"](request)

    app = create_meetings(
        MeetingsSettings(
            database_url=url,
            data_dir=data_dir,
            environment="test",
            log_json=False,
            events_relay_enabled=False,
            risk_api_url="http://risk.test",
            referral_api_url="http://referral.test",
        )
    )
    app.state.services_client = httpx.Client(transport=httpx.MockTransport(services), follow_redirects=False)
    coordinator = tokens.headers(**COORDINATOR)
    with TestClient(app) as meetings:
        occurrence = one_meeting(meetings, coordinator, "2027-03-03T10:00:00")
        agenda_path = f"/api/v1/meetings/occurrences/{occurrence}/agenda"

        def build(
            risk: Callable[[httpx.Request], httpx.Response],
            referral: Callable[[httpx.Request], httpx.Response] | None = None,
        ) -> Built:
            answers["risk"] = risk
            answers["referral"] = referral or page()
            asked.clear()
            before = meetings.get(agenda_path, params={"limit": 100}, headers=coordinator).json()["items"]
            answer = meetings.post(f"{agenda_path}/generate", headers=coordinator)
            after = meetings.get(agenda_path, params={"limit": 100}, headers=coordinator).json()["items"]
            return Built(answer, before, after, list(asked))

        yield build
    empty_tables(url, Base.metadata)


def page(*items: Any, next_cursor: Any = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(200, json={"items": list(items), "next_cursor": next_cursor})


RISK_ITEM = {
    "child_id": str(uuid.uuid4()),
    "current_level": "high",
    "previous_level": "low",
    "trend": "rising",
}
MALFORMED_RISK_ANSWERS = {
    "not JSON": lambda _: httpx.Response(200, text="<html>Service temporarily unavailable</html>"),
    "JSON but no items": lambda _: httpx.Response(200, json={"children": []}),
    "items not a list": lambda _: httpx.Response(200, json={"items": {"child_id": "x"}}),
    "an item not an object": page("child-1"),
    "an item without child_id": page({"current_level": "high"}),
    "child_id not a uuid": page({**RISK_ITEM, "child_id": "child-1"}),
    "child_id a number": page({**RISK_ITEM, "child_id": 7}),
    "a level the service never gives": page({**RISK_ITEM, "current_level": "extreme"}),
    "next_cursor an object": page(RISK_ITEM, next_cursor={"page": 2}),
    "an empty body": lambda _: httpx.Response(200, content=b""),
}


@pytest.mark.parametrize("answer", sorted(MALFORMED_RISK_ANSWERS))
def test_an_agenda_is_not_built_from_a_risk_answer_that_is_not_what_the_service_documents(
    build_agenda, problem, answer
):
    built = build_agenda(MALFORMED_RISK_ANSWERS[answer])
    refused = problem(built.answer, 502)
    assert refused["type"] == "urn:safeguarding:problem:agenda-source-invalid"
    assert built.agenda_after == built.agenda_before


MALFORMED_REFERRAL_ANSWERS = {
    "referral without id": page({"child_id": str(uuid.uuid4()), "previous_referrals": 0}),
    "previous_referrals negative": page(
        {"id": str(uuid.uuid4()), "child_id": str(uuid.uuid4()), "previous_referrals": -3}
    ),
    "missing episode time without a zone": page(
        {"child_id": str(uuid.uuid4()), "reported_missing_at": "2027-03-01T10:00:00"}
    ),
}


@pytest.mark.parametrize("answer", sorted(MALFORMED_REFERRAL_ANSWERS))
def test_an_agenda_is_not_built_from_a_referral_answer_that_is_not_what_the_service_documents(
    build_agenda, problem, answer
):
    broken = MALFORMED_REFERRAL_ANSWERS[answer]

    def referral_service(request: httpx.Request) -> httpx.Response:
        wanted = "missing-episodes" if "without a zone" in answer else "referrals"
        if request.url.path.endswith(wanted):
            return broken(request)
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    built = build_agenda(page(), referral_service)
    refused = problem(built.answer, 502)
    assert refused["type"] == "urn:safeguarding:problem:agenda-source-invalid"
    assert built.agenda_after == built.agenda_before


def test_a_well_formed_answer_builds_the_agenda(build_agenda):
    """The control: the same fixture, answers as documented, gives an agenda."""
    child_id = str(uuid.uuid4())
    built = build_agenda(page({**RISK_ITEM, "child_id": child_id, "extra_field": "ignored"}))
    assert built.answer.status_code == 200, built.answer.text
    assert [child_id] in [item["child_ids"] for item in built.agenda_after]


def test_the_agendas_calls_do_not_follow_a_redirect(build_agenda, problem):
    def redirecting(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    built = build_agenda(redirecting)
    problem(built.answer, 503)
    assert built.agenda_after == built.agenda_before
    # Only the two services were asked: the cloud metadata address was never followed.
    assert {r.url.host for r in built.asked} <= {"risk.test", "referral.test"}


@pytest.fixture
def loopback_servers() -> Iterator[SimpleNamespace]:
    """A webhook receiver that redirects, and the target it redirects to; both count hits."""
    hits: dict[str, int] = {"receiver": 0, "target": 0}

    def handler(name: str, redirect_to: str | None) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hits[name] += 1
                self.send_response(307 if redirect_to else 204)
                if redirect_to:
                    self.send_header("Location", redirect_to)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    target = HTTPServer(("127.0.0.1", 0), handler("target", None))
    receiver = HTTPServer(
        ("127.0.0.1", 0), handler("receiver", f"http://127.0.0.1:{target.server_port}/stolen")
    )
    for server in (target, receiver):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{receiver.server_port}/hook", hits=hits)
    for server in (target, receiver):
        server.shutdown()


def test_a_webhook_delivery_does_not_follow_a_redirect(loopback_servers):
    row = webhook_delivery_row(loopback_servers.url)
    # As the relay's client is made (relay_thread); loopback allowed, as in development, for a receiver here.
    with httpx.Client(timeout=5, follow_redirects=False) as client:
        outcome = deliver(client, "unused", row, private_addresses_allowed=True)
    assert outcome == Undelivered("HTTP 307", receiver_unreachable=False)
    assert loopback_servers.hits == {"receiver": 1, "target": 0}
