"""Calendar apps cannot send a bearer token, so the gateway lets exactly one request through
without one: GET of a meetings calendar feed address, whose path holds the feed's own
43-character token (the meetings service answers 404 for a token of no feed). Every other
path, near misses included, still needs a token and is 401 before any service is reached;
feed reads are rate limited per feed address."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.routing import is_calendar_feed_read
from api_gateway.settings import GatewaySettings
from api_gateway.upstream import HttpxUpstream

TOKEN = "q3Xw1TnYb8V0cL5sZk2PpRm9HdJf4GeAu7NiOy6B-_t"
FEED = f"/api/v1/meetings/calendar-feeds/{TOKEN}.ics"
MEETINGS_SPEC = Path(__file__).resolve().parents[2] / "openapi" / "meetings-api.json"


def test_a_calendar_app_reads_a_feed_address_without_a_token(gateway, services):
    answer = gateway.get(FEED)

    assert answer.status_code == 200
    [reached] = services.requests
    assert reached.url.port == 8103
    assert reached.url.raw_path == FEED.encode()
    assert "authorization" not in reached.headers


def test_a_feed_address_with_a_query_string_reaches_the_service_as_sent(gateway, services):
    assert gateway.get(FEED + "?refresh=1").status_code == 200
    assert services.requests[-1].url.raw_path == FEED.encode() + b"?refresh=1"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", FEED),
        ("PUT", FEED),
        ("DELETE", FEED),
        ("HEAD", FEED),
        ("GET", FEED.replace(TOKEN, TOKEN[:-1])),  # 42 characters
        ("GET", FEED.replace(TOKEN, TOKEN + "A")),  # 44 characters
        ("GET", FEED.replace(TOKEN, TOKEN[:-1] + ".")),
        ("GET", FEED.replace(TOKEN, "%41" + TOKEN[1:])),  # percent-encoded, even of a letter
        ("GET", FEED + "/"),
        ("GET", FEED + ".json"),
        ("GET", FEED[: -len(".ics")]),
        ("GET", FEED.replace(".ics", ".ICS")),
        ("GET", FEED + "/../../series"),
        ("GET", f"/api/v1/meetings/calendar-feeds/{TOKEN}.ics%2F..%2Fseries"),
        ("GET", f"/api/v1/meetings/series/{TOKEN}.ics"),
        ("GET", f"/api/v1/meetings/calendar-feeds/x/{TOKEN}.ics"),
        ("GET", f"/api/v1/meetings/calendar-feeds/{uuid.UUID(int=1)}.ics"),
        ("GET", f"/api/v1/referrals/calendar-feeds/{TOKEN}.ics"),
        ("GET", f"/api/v1/risk/calendar-feeds/{TOKEN}.ics"),
        ("GET", "/api/v1/meetings/calendar-feeds"),
        ("POST", "/api/v1/meetings/calendar-feeds"),
        ("DELETE", f"/api/v1/meetings/calendar-feeds/{uuid.UUID(int=1)}"),
        ("GET", f"/api/v1/meetings/series/{uuid.UUID(int=1)}/calendar.ics"),
    ],
)
def test_near_misses_of_the_feed_address_still_need_a_token(gateway, services, method, path):
    answer = gateway.request(method, path)

    assert answer.status_code == 401, f"{method} {path}"
    assert answer.headers["content-type"] == "application/problem+json"
    assert services.requests == []


def test_every_other_meetings_operation_without_a_token_is_401_and_reaches_no_service(gateway, services):
    spec = json.loads(MEETINGS_SPEC.read_text())
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if operation["operationId"] == "readCalendarFeed":
                continue
            concrete = re.sub(r"\{[^}]+\}", str(uuid.UUID(int=7)), path)
            answer = gateway.request(method.upper(), concrete)
            assert answer.status_code == 401, f"{method.upper()} {path}: {answer.status_code}"
            checked += 1
    assert checked > 20
    assert services.requests == []


def test_only_the_feed_operation_of_the_meetings_spec_is_open():
    spec = json.loads(MEETINGS_SPEC.read_text())
    open_operations = [
        operation["operationId"]
        for item in spec["paths"].values()
        for operation in item.values()
        if operation.get("security") == []
    ]
    assert open_operations in ([], ["readCalendarFeed"])


def test_the_open_shape_is_exactly_a_get_of_a_feed_address_as_written():
    raw = FEED.encode()
    assert is_calendar_feed_read("GET", FEED, raw)
    assert not is_calendar_feed_read("GET", FEED, raw.replace(b"q3X", b"%71" + b"3X"))
    assert not is_calendar_feed_read("HEAD", FEED, raw)
    assert not is_calendar_feed_read("GET", "/api/v1/meetings/calendar-feeds/é" + TOKEN[1:] + ".ics", raw)


def test_feed_reads_are_rate_limited_per_feed_address(data_dir):
    app = create_app(
        GatewaySettings(
            data_dir=data_dir, environment="test", log_json=False, rate_limit_calendar_feeds="3/minute"
        )
    )
    with TestClient(app) as gateway:
        app.state.upstream_client = httpx.AsyncClient(
            transport=httpx.MockTransport(lambda request: httpx.Response(200, text="BEGIN:VCALENDAR"))
        )
        app.state.upstream = HttpxUpstream(app.state.upstream_client)

        answers = [gateway.get(FEED).status_code for _ in range(5)]
        another_feed = gateway.get(FEED.replace(TOKEN, TOKEN[::-1]))

    assert answers == [200, 200, 200, 429, 429]
    assert another_feed.status_code == 200
