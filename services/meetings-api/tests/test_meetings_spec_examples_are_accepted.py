"""An integrator can copy the spec's request examples as they are: the meeting series, the
agenda item, the decision and the action the spec shows are accepted one after another,
each taking the id the previous call answered (as the operations' descriptions say)."""

from __future__ import annotations

from typing import Any

from meetings_scenarios import COORDINATOR

from safeguarding_kit.openapi_examples import request_body_example


def post_example(client: Any, tokens: Any, template: str, **ids: str) -> Any:
    example = request_body_example(client.app.openapi(), "post", template)
    return client.post(template.format(**ids), json=example, headers=tokens.headers(**COORDINATOR))


def first_occurrence(client: Any, tokens: Any, series: dict[str, Any]) -> dict[str, Any]:
    listed = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        params={"from": series["first_meeting_local"] + "Z", "limit": 1},
        headers=tokens.headers(**COORDINATOR),
    )
    assert listed.status_code == 200, listed.text
    occurrence: dict[str, Any] = listed.json()["items"][0]
    return occurrence


def test_the_specs_own_series_item_decision_and_action_examples_are_accepted(client, tokens):
    series = post_example(client, tokens, "/api/v1/meetings/series")
    assert series.status_code == 201, series.text

    occurrence = first_occurrence(client, tokens, series.json())
    item = post_example(
        client,
        tokens,
        "/api/v1/meetings/occurrences/{occurrence_id}/agenda/items",
        occurrence_id=occurrence["id"],
    )
    assert item.status_code == 201, item.text

    decision = post_example(
        client, tokens, "/api/v1/meetings/agenda-items/{item_id}/decisions", item_id=item.json()["id"]
    )
    assert decision.status_code == 201, decision.text

    action = post_example(
        client, tokens, "/api/v1/meetings/agenda-items/{item_id}/actions", item_id=item.json()["id"]
    )
    assert action.status_code == 201, action.text
