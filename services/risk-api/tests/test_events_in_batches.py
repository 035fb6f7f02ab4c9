"""The referral service's relay sends the risk service each pass's events in one request (a
CloudEvents batch): each applied once, in the order sent, and answered as it would have
been alone."""

from __future__ import annotations

from typing import Any

import pytest
from risk_scenarios import ASSESSOR, YOUTH_WORKER, answers, new_child

from safeguarding_kit.events import MAX_BATCH
from safeguarding_kit.testing import deliver_batch, referral_event

pytestmark = pytest.mark.usefixtures("default_model")


def linked(child: str, agency: str = "sheffield-youth") -> dict[str, Any]:
    return referral_event("child.agency_linked", child, child_id=child, agency=agency, reason="referral")


def post_batch(client: Any, items: Any, secret: str | None = None) -> Any:
    return deliver_batch(client, items, receiver="risk-api", secret=secret)


def assessed(client: Any, tokens: Any, *children: str) -> None:
    """Each child assessed, so that a youth worker's 404 means "not linked", not "nothing here"."""
    for child in children:
        made = client.post(
            f"/api/v1/risk/children/{child}/assessments",
            json={"answers": answers("missing_repeat")},
            headers=tokens.headers(**ASSESSOR),
        )
        assert made.status_code == 201, made.text


def youth_worker_reads(client: Any, tokens: Any, child: str) -> int:
    status: int = client.get(
        f"/api/v1/risk/children/{child}", headers=tokens.headers(**YOUTH_WORKER)
    ).status_code
    return status


def test_a_batch_is_applied_event_by_event_and_each_is_answered_as_it_would_be_alone(client, tokens):
    first, second, third = new_child(), new_child(), new_child()
    without_agency = linked(third)
    del without_agency["data"]["agency"]
    not_an_event = {"id": "not-a-uuid", "type": "child.agency_linked"}
    batch = [linked(first), without_agency, not_an_event, linked(second)]
    assessed(client, tokens, first, second, third)

    answer = post_batch(client, batch)

    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == [
        {"id": batch[0]["id"], "status": 204},
        {"id": without_agency["id"], "status": 422},
        {"id": "not-a-uuid", "status": 400},
        {"id": batch[3]["id"], "status": 204},
    ]
    # The good events took effect; the refused one in between held nothing up and did nothing.
    assert youth_worker_reads(client, tokens, first) == 200
    assert youth_worker_reads(client, tokens, second) == 200
    assert youth_worker_reads(client, tokens, third) == 404


def test_a_batch_sent_again_is_applied_once(client, tokens):
    child = new_child()
    assessed(client, tokens, child)
    batch = [linked(child), linked(child, "sheffield-health")]
    assert [r["status"] for r in post_batch(client, batch).json()["results"]] == [204, 204]
    again = post_batch(client, batch)
    assert [r["status"] for r in again.json()["results"]] == [204, 204]  # the inbox had them: no-ops
    assert youth_worker_reads(client, tokens, child) == 200


def test_a_forged_or_malformed_batch_is_refused_whole_and_nothing_is_applied(client, tokens):
    child = new_child()
    assessed(client, tokens, child)
    forged = post_batch(client, [linked(child)], secret="another-secret-entirely-0123456789")
    assert forged.status_code == 401
    assert post_batch(client, {"not": "an array"}).status_code == 400  # type: ignore[arg-type]
    assert post_batch(client, [linked(new_child()) for _ in range(MAX_BATCH + 1)]).status_code == 400
    assert youth_worker_reads(client, tokens, child) == 404
