"""OWASP API4:2023 Unrestricted resource consumption: asking for more than the platform
will give in one request (page sizes, body sizes, nesting, string and list lengths,
date ranges) or more requests than a client's budget. Each is a 4xx problem naming what
was too big, before the work is done.

The gateway's own tests (gateway/tests/test_rate_limits.py) cover rate limits in front
of a fake service; here a gateway runs in front of the real services with tight limits.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
EVERY_LIST_ROLE = ["practitioner", "auditor", "admin", "manager"]


@pytest.fixture(scope="module")
def lister(stack_tokens) -> dict[str, str]:
    """A statutory partner holding every role that lists something."""
    return stack_tokens.headers(
        agency="sheffield-social-care", agency_type="social_care", roles=EVERY_LIST_ROLE
    )


def lists(police_case) -> list[str]:
    child = police_case.child_id
    return [
        "/api/v1/referrals",
        "/api/v1/referrals/overdue-decisions",
        "/api/v1/children",
        f"/api/v1/children/{child}/access-log",
        "/api/v1/missing-episodes",
        "/api/v1/missing-episodes/overdue-interviews",
        "/api/v1/third-party-information",
        "/api/v1/persons-of-concern",
        "/api/v1/places-of-concern",
        f"/api/v1/webhooks/referral-service/endpoints/{uuid.uuid4()}/deliveries",
        "/api/v1/risk/children",
        f"/api/v1/risk/children/{child}/assessments",
        f"/api/v1/risk/children/{child}/access-log",
        "/api/v1/risk/models",
        "/api/v1/meetings/series",
        f"/api/v1/meetings/children/{child}/access-log",
    ]


@pytest.mark.parametrize("limit", ["1000", "101", "0", "-1", "all", "1e3", str(10**30)])
def test_a_page_size_beyond_100_or_not_a_number_is_refused_naming_limit(
    gateway, lister, police_case, problem, limit
):
    for path in lists(police_case):
        refused = problem(gateway.get(path, params={"limit": limit}, headers=lister), 422)
        assert {"parameter": "limit", "location": "query"}.items() <= refused["errors"][0].items(), path


def test_a_cursor_that_is_too_long_or_not_ours_is_refused(gateway, lister, problem):
    too_long = problem(gateway.get("/api/v1/referrals", params={"cursor": "A" * 513}, headers=lister), 422)
    assert too_long["errors"][0]["parameter"] == "cursor"
    for forged in ("!!!", "eyJub3QiOiAidXMifQ", "W10", "WyIyMDI2IiwgIngiXQ"):
        problem(gateway.get("/api/v1/referrals", params={"cursor": forged}, headers=lister), 400)


def logged(stack, service: str, request_id: str) -> bool:
    time.sleep(0.3)  # let the service's log lines reach its file
    return request_id in (stack.config.log_dir / f"{service}.log").read_text()


def test_a_body_over_one_mebibyte_is_refused_at_the_gateway_before_any_service_sees_it(
    stack, gateway, as_, problem
):
    huge = json.dumps({"summary": "x" * (2 * MIB)}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the gateway must count as it reads
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    sent = []
    for body in (huge, chunks()):
        request_id = f"owasp-huge-{uuid.uuid4().hex}"
        sent.append(request_id)
        answer = gateway.post(
            "/api/v1/referrals",
            headers={
                **as_("school referrer"),
                "content-type": "application/json",
                "X-Request-ID": request_id,
            },
            content=body,
        )
        problem(answer, 413)
    control = f"owasp-small-{uuid.uuid4().hex}"
    gateway.get("/api/v1/referrals", headers={**as_("school referrer"), "X-Request-ID": control})
    assert logged(stack, "referral-api", control), (
        "the control request is not in the log: the check proves nothing"
    )
    for request_id in sent:
        assert not logged(stack, "referral-api", request_id), "a body over the limit reached the service"


@pytest.mark.parametrize("route", ["gateway", "direct"])
def test_deeply_nested_json_is_a_client_error_not_a_crash(http, stack, as_, problem, route):
    base = stack.config.gateway_url if route == "gateway" else stack.config.url_of("referral-api")
    for body in (b"[" * 200_000 + b"]" * 200_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        answer = http.post(
            base + "/api/v1/referrals",
            headers={**as_("school referrer"), "content-type": "application/json"},
            content=body,
            timeout=15,
        )
        assert answer.status_code in (400, 422), answer.status_code
        problem(answer, answer.status_code)


def test_strings_longer_than_their_field_allows_are_refused_with_the_field_named(gateway, as_, new, problem):
    school = as_("school referrer")
    too_long = {
        "#/summary": new.referral(summary="x" * 20_001),
        "#/child/given_name": new.referral(child=new.child(given_name="x" * 101)),
        "#/source_reference": new.referral(source_reference="x" * 101),
        "#/referrer/name": new.referral(referrer={"name": "x" * 201, "role": "Teacher"}),
        "#/lawful_basis/reason": new.referral(
            lawful_basis={"basis": "safeguarding_without_consent", "reason": "x" * 2001}
        ),
    }
    # Under the gateway's 1 MiB, so the service's own limits are what refuses it.
    too_long["#/summary "] = new.referral(summary="y" * 900_000)
    for pointer, body in too_long.items():
        refused = problem(gateway.post("/api/v1/referrals", headers=school, json=body), 422)
        assert pointer.strip() in {e["pointer"] for e in refused["errors"]}
    refused = problem(
        gateway.get("/api/v1/referrals", params={"allocated_worker": "w" * 5000}, headers=school), 422
    )
    assert refused["errors"][0]["parameter"] == "allocated_worker"


def test_lists_longer_than_their_field_allows_are_refused(gateway, as_, new, police_case, problem):
    for caller, path, body, pointer in (
        (
            "school referrer",
            "/api/v1/referrals",
            new.referral(concern_types=["sexual_exploitation"] * 500),
            "#/concern_types",
        ),
        (
            "social worker",
            f"/api/v1/risk/children/{uuid.uuid4()}/assessments",
            {"answers": [{"indicator_code": f"code-{i}", "answer": "absent"} for i in range(201)]},
            "#/answers",
        ),
        (
            "charity admin",
            "/api/v1/webhooks/referral-service/endpoints",
            {"url": "https://93.184.216.34/hooks", "event_types": ["referral.received"] * 51},
            "#/event_types",
        ),
        (
            "coordinator",
            f"/api/v1/meetings/occurrences/{uuid.uuid4()}/agenda/items",
            {
                "kind": "children_group",
                "title": "Group",
                "child_ids": [str(uuid.uuid4()) for _ in range(51)],
                "reason": "Linked",
            },
            "#/child_ids",
        ),
    ):
        refused = problem(gateway.post(path, headers=as_(caller), json=body), 422)
        assert pointer in {e["pointer"] for e in refused["errors"]}, (path, refused)


@pytest.fixture(scope="module")
def series_id(gateway, as_) -> str:
    series = gateway.post(
        "/api/v1/meetings/series",
        headers=as_("coordinator"),
        json={
            "meeting_type": "OTHER",
            "title": f"OWASP daily huddle {uuid.uuid4().hex[:6]}",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": "2027-01-04T09:00:00",
            "duration_minutes": 15,
            "rrule": "FREQ=DAILY",
            "bank_holiday_rule": "keep",
        },
    )
    assert series.status_code == 201, series.text
    return series.json()["id"]


def test_meetings_are_listed_at_most_400_days_at_a_time(gateway, as_, series_id, problem):
    path = f"/api/v1/meetings/series/{series_id}/occurrences"
    coordinator = as_("coordinator")
    window = {"from": "2027-01-01T00:00:00Z", "to": "2028-02-05T00:00:00Z"}  # 400 days
    listed = gateway.get(path, params=window, headers=coordinator)
    assert listed.status_code == 200
    meetings = listed.json()["items"]
    assert len(meetings) == 25  # a page at a time, as every list
    cursor = listed.json()["next_cursor"]
    while cursor:
        page = gateway.get(
            path, params={**window, "limit": 100, "cursor": cursor}, headers=coordinator
        ).json()
        meetings, cursor = meetings + page["items"], page["next_cursor"]
    assert len(meetings) == 397
    for to in ("2028-02-06T00:00:00Z", "2037-01-01T00:00:00Z"):
        refused = problem(gateway.get(path, params={**window, "to": to}, headers=coordinator), 422)
        assert refused["errors"][0]["parameter"] == "to"


def test_meetings_are_not_generated_thousands_of_years_ahead(gateway, as_, series_id, problem):
    """A short window far ahead would make the service walk the rule from its first meeting
    to there (seconds for a daily meeting in the year 9000)."""
    path = f"/api/v1/meetings/series/{series_id}/occurrences"
    coordinator = as_("coordinator")
    started = time.monotonic()
    far = problem(gateway.get(path, params={"from": "9000-01-01T00:00:00Z"}, headers=coordinator), 422)
    assert far["errors"][0]["parameter"] == "from"
    far = problem(
        gateway.get(
            path, params={"from": "2027-01-01T00:00:00Z", "to": "9000-01-01T00:00:00Z"}, headers=coordinator
        ),
        422,
    )
    assert far["errors"][0]["parameter"] == "to"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_meeting_local", "0001-01-01T10:00:00"),
        ("first_meeting_local", "9000-01-01T10:00:00"),
        ("rrule", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"),  # 30 February: scanned to the year 9999
        ("rrule", "FREQ=WEEKLY;BYDAY=MO;BYMONTHDAY=31;BYMONTH=4,6,9,11"),
    ],
)
def test_a_series_that_would_cost_seconds_to_list_is_refused_when_created(
    gateway, as_, problem, field, value
):
    body = {
        "meeting_type": "OTHER",
        "title": "OWASP costly series",
        "chair_agency": "sheffield-social-care",
        "first_meeting_local": "2027-01-04T09:00:00",
        "rrule": "FREQ=DAILY",
        "bank_holiday_rule": "keep",
        field: value,
    }
    refused = problem(gateway.post("/api/v1/meetings/series", headers=as_("coordinator"), json=body), 422)
    assert f"#/{field}" in {e["pointer"] for e in refused["errors"]}


@pytest.fixture
def tight_gateway(stack, tmp_path) -> Iterator[TestClient]:
    """The real gateway code in front of the real services, with a small budget per client."""
    settings = GatewaySettings(
        data_dir=stack.config.data_dir,
        environment="test",
        log_json=False,
        referral_api_url=stack.config.url_of("referral-api"),
        risk_api_url=stack.config.url_of("risk-api"),
        meetings_api_url=stack.config.url_of("meetings-api"),
        rate_limit_reads="4/minute",
        rate_limit_writes="2/minute",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_flood_from_one_client_is_slowed_with_429_and_retry_after_while_others_are_served(
    tight_gateway, stack_tokens, new, problem
):
    flooder = stack_tokens.headers(
        agency="sheffield-schools", agency_type="education", roles=["referrer"], sub="sync-job"
    )
    other = stack_tokens.headers(
        agency="sheffield-schools", agency_type="education", roles=["referrer"], sub="teacher"
    )
    writes = [tight_gateway.post("/api/v1/referrals", headers=flooder, json=new.referral()) for _ in range(3)]
    assert [w.status_code for w in writes] == [201, 201, 429]
    reads = [tight_gateway.get("/api/v1/referrals", headers=flooder) for _ in range(5)]
    assert [r.status_code for r in reads] == [200, 200, 200, 200, 429]
    for refused in (writes[-1], reads[-1]):
        problem(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert tight_gateway.get("/api/v1/referrals", headers=other).status_code == 200
    assert tight_gateway.post("/api/v1/referrals", headers=other, json=new.referral()).status_code == 201
