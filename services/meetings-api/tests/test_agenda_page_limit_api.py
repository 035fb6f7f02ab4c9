"""An agenda holds every child the services list, however many, or is not built at all:
a list too long to read whole is a 502 problem, counted, with nothing written."""

from __future__ import annotations

import uuid

from meetings_scenarios import COORDINATOR, PROBLEM, first_meeting_in_two_days_local, series_body
from prometheus_client import REGISTRY

from meetings_api.agendas.upstream import paging


def next_mace(meetings, tokens) -> dict:
    series = meetings.post(
        "/api/v1/meetings/series",
        json=series_body(first_meeting_local=first_meeting_in_two_days_local(), rrule="FREQ=WEEKLY"),
        headers=tokens.headers(**COORDINATOR),
    ).json()
    return meetings.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**COORDINATOR)
    ).json()["items"][0]


def generate(meetings, tokens, occurrence):
    return meetings.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/generate",
        headers=tokens.headers(**COORDINATOR),
    )


def test_three_thousand_children_risen_to_high_are_every_one_on_the_mace_agenda(agenda_client, tokens):
    meetings, services = agenda_client
    children = {str(uuid.uuid4()) for _ in range(3000)}
    for child in children:
        services.risk.assessed(child, "high")

    occurrence = next_mace(meetings, tokens)
    response = generate(meetings, tokens, occurrence)

    assert response.status_code == 200, response.text
    first_page = response.json()
    assert [item["position"] for item in first_page["items"]] == list(range(1, 26))
    agenda, cursor = first_page["items"], first_page["next_cursor"]
    while cursor:  # the generated agenda's cursor reads on through getAgenda
        page = meetings.get(
            f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda",
            params={"limit": 100, "cursor": cursor},
            headers=tokens.headers(**COORDINATOR),
        ).json()
        agenda, cursor = agenda + page["items"], page["next_cursor"]
    assert {c for item in agenda for c in item["child_ids"]} == children
    assert [item["position"] for item in agenda] == list(range(1, 3001))


def test_a_list_too_long_to_read_whole_refuses_the_agenda_counts_it_and_keeps_the_last_one(
    agenda_client, tokens, monkeypatch
):
    meetings, services = agenda_client
    first = str(uuid.uuid4())
    services.risk.assessed(first, "high")
    occurrence = next_mace(meetings, tokens)
    assert generate(meetings, tokens, occurrence).status_code == 200
    monkeypatch.setattr(paging, "MAX_PAGES", 2)
    for _ in range(2 * paging.PAGE_SIZE):
        services.risk.assessed(str(uuid.uuid4()), "high")
    hits = {"path": "/api/v1/risk/children"}
    before = REGISTRY.get_sample_value("agenda_source_page_limit_hits_total", hits) or 0.0

    refused = generate(meetings, tokens, occurrence)

    assert refused.status_code == 502
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["type"].endswith(":agenda-source-too-long")
    assert "more than 200 children's risks" in refused.json()["detail"]
    assert REGISTRY.get_sample_value("agenda_source_page_limit_hits_total", hits) == before + 1
    agenda = meetings.get(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda", headers=tokens.headers(**COORDINATOR)
    ).json()["items"]
    assert [item["child_ids"] for item in agenda] == [[first]]
