"""The typed clients of the risk and referral services over HTTP (answered by fakes of
those services): lists read whole with the caller's token, answers checked, and a list
too long to read whole refused and counted, never cut short."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from meetings_fake_services import REFERRAL_URL, RISK_URL, FakeServices
from prometheus_client import REGISTRY

from meetings_api.agendas.upstream.paging import (
    MAX_ITEMS,
    PAGE_SIZE,
    ServiceLists,
    SourceInvalid,
    SourceRefused,
    SourceTooLong,
    SourceUnavailable,
)
from meetings_api.agendas.upstream.referral_client import ConcernType, HttpReferralClient, ReferralQuery
from meetings_api.agendas.upstream.risk_client import HttpRiskClient, RiskLevel, RiskQuery

NOW = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)


def lists(transport: httpx.BaseTransport, service: str = "risk service") -> ServiceLists:
    return ServiceLists(
        httpx.Client(transport=transport),
        base_url="http://upstream.test/",
        service=service,
        bearer_token="tok",
    )


def risk_over(handler: Callable[[httpx.Request], httpx.Response]) -> HttpRiskClient:
    return HttpRiskClient(lists(httpx.MockTransport(handler)))


def endless_risk_list(total: int) -> Callable[[httpx.Request], httpx.Response]:
    """``total`` children at high risk, made page by page as they are asked for."""

    def handle(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("cursor", "0"))
        end = min(start + int(request.url.params["limit"]), total)
        items = [{"child_id": str(uuid.UUID(int=i + 1)), "current_level": "high"} for i in range(start, end)]
        return httpx.Response(200, json={"items": items, "next_cursor": str(end) if end < total else None})

    return handle


def page_limit_hits(path: str) -> float:
    return REGISTRY.get_sample_value("agenda_source_page_limit_hits_total", {"path": path}) or 0.0


def test_a_list_of_thousands_is_read_whole_a_page_at_a_time_with_the_callers_token():
    services = FakeServices()
    children = {uuid.uuid4() for _ in range(3000)}
    for child in children:
        services.risk.assessed(str(child), "high")
    risk = HttpRiskClient(
        ServiceLists(services.client(), base_url=RISK_URL, service="risk service", bearer_token="tok")
    )

    found = risk.child_risks(RiskQuery(level=RiskLevel.high))

    assert {r.child_id for r in found} == children
    assert len(services.requests) == 3000 // PAGE_SIZE
    assert services.bearer_tokens() == {"tok"}


def test_a_list_exactly_at_the_limit_is_read_whole():
    assert len(risk_over(endless_risk_list(MAX_ITEMS)).child_risks(RiskQuery())) == MAX_ITEMS


def test_a_list_longer_than_the_limit_is_refused_and_counted_never_cut_short():
    before = page_limit_hits("/api/v1/risk/children")

    with pytest.raises(SourceTooLong) as refused:
        risk_over(endless_risk_list(MAX_ITEMS + 1)).child_risks(RiskQuery())

    assert refused.value.status == 502
    assert f"more than {MAX_ITEMS:,} children's risks" in refused.value.detail
    assert page_limit_hits("/api/v1/risk/children") == before + 1


def test_an_answer_without_the_fields_the_agenda_reads_is_a_502():
    def unknown_level(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"items": [{"child_id": str(uuid.uuid4()), "current_level": "severe"}]}
        )

    with pytest.raises(SourceInvalid):
        risk_over(unknown_level).child_risks(RiskQuery())


def test_a_referral_without_its_count_of_earlier_referrals_is_a_502_not_a_first_referral():
    def no_count(_: httpx.Request) -> httpx.Response:
        item = {"id": str(uuid.uuid4()), "child_id": str(uuid.uuid4())}
        return httpx.Response(200, json={"items": [item], "next_cursor": None})

    client = HttpReferralClient(lists(httpx.MockTransport(no_count), "referral service"))
    with pytest.raises(SourceInvalid):
        client.referrals(ReferralQuery(concern_type=ConcernType.county_lines, received_from=NOW))


@pytest.mark.parametrize(
    ("status", "problem"), [(401, SourceRefused), (403, SourceRefused), (500, SourceUnavailable)]
)
def test_a_refusal_or_failure_of_the_service_is_its_problem(status, problem):
    with pytest.raises(problem):
        risk_over(lambda _: httpx.Response(status)).child_risks(RiskQuery())


def test_a_service_that_cannot_be_reached_is_a_503():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(SourceUnavailable):
        risk_over(down).child_risks(RiskQuery())


def test_missing_episodes_are_read_newest_first_only_as_far_back_as_asked():
    services = FakeServices()
    child = str(uuid.uuid4())
    for days in range(1, 1001):
        services.referrals.missing(child, NOW - timedelta(days=days))
    referrals = HttpReferralClient(
        ServiceLists(services.client(), base_url=REFERRAL_URL, service="referral service", bearer_token="tok")
    )

    episodes = referrals.missing_episodes(reported_since=NOW - timedelta(days=90, hours=12))

    assert len(episodes) == 90
    assert len(services.requests) == 1  # the first page already reaches back past 90 days


def test_the_query_sent_is_the_documented_filters():
    seen: list[httpx.Request] = []

    def empty(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=json.dumps({"items": [], "next_cursor": None}))

    risk_over(empty).child_risks(RiskQuery(level=RiskLevel.medium, assessed_before=NOW))

    assert seen[0].url.path == "/api/v1/risk/children"
    assert dict(seen[0].url.params) == {
        "level": "medium",
        "assessed_before": "2027-03-03T10:00:00+00:00",
        "limit": str(PAGE_SIZE),
    }
