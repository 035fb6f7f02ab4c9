"""The referral service's relay sends the risk service each pass's events in one request (a
CloudEvents batch): each applied once, in the order sent, and answered as it would have
been alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from risk_scenarios import ASSESSOR, YOUTH_WORKER, answers, new_child
from sqlalchemy import select

from risk_api.assessments.models import ChildRisk
from safeguarding_kit.events import MAX_BATCH
from safeguarding_kit.testing import deliver_batch, referral_event, statements_sent

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


def referred(child: str, time: str) -> dict[str, Any]:
    event = referral_event(
        "referral.received", child, child_id=child, concern_types=["criminal_exploitation"]
    )
    event["time"] = time
    return event


def test_a_batch_of_referrals_opens_each_childs_screening_once_reading_their_risk_rows_together(
    client, tokens
):
    known, fresh, twice = new_child(), new_child(), new_child()
    assessed(client, tokens, known)  # a risk row already, with no screening opened
    batch = [
        referred(fresh, "2026-11-13T09:00:00Z"),
        linked(fresh),
        referred(twice, "2026-11-16T09:00:00Z"),
        referred(twice, "2026-11-17T09:00:00Z"),  # opening again changes nothing
        referred(known, "2026-11-18T09:00:00Z"),
    ]
    with statements_sent(client) as statements:
        answer = post_batch(client, batch)

    assert [r["status"] for r in answer.json()["results"]] == [204] * len(batch)
    reads_of_risk_rows = [
        s for s in statements if s.lstrip().startswith("SELECT") and "FROM child_risk " in s
    ]
    assert len(reads_of_risk_rows) == 1, "\n".join(
        " ".join(s.split())[:60] + " ... " + " ".join(s.split())[-50:] for s in statements
    )
    with client.app.state.database.sessions() as session:
        opened = {
            str(risk.child_id): (risk.screening_opened_at, risk.initial_assessment_due)
            for risk in session.scalars(
                select(ChildRisk).where(ChildRisk.child_id.in_([uuid.UUID(c) for c in (known, fresh, twice)]))
            )
        }
    assert opened == {
        fresh: (at("2026-11-13T09:00:00Z"), at("2026-11-27T09:00:00Z")),
        twice: (at("2026-11-16T09:00:00Z"), at("2026-11-30T09:00:00Z")),
        known: (at("2026-11-18T09:00:00Z"), at("2026-12-02T09:00:00Z")),
    }
    assert youth_worker_reads(client, tokens, fresh) == 200  # the link in between applied too


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def test_a_child_disposed_of_between_two_referrals_in_a_batch_is_screened_afresh_by_the_second(
    client, tokens
):
    child = new_child()
    assessed(client, tokens, child)
    disposed = referral_event(
        "child.disposed",
        child,
        child_id=child,
        record_classes=["exploitation_case_record"],
        disposed_at=datetime.now(UTC).isoformat(),
    )
    batch = [referred(child, "2026-11-16T09:00:00Z"), disposed, referred(child, "2026-11-18T09:00:00Z")]

    answer = post_batch(client, batch)

    assert [r["status"] for r in answer.json()["results"]] == [204, 204, 204]
    with client.app.state.database.sessions() as session:
        risk = session.get(ChildRisk, uuid.UUID(child))
        assert risk is not None
        # The row read ahead went with the disposal: the second referral opened a new one.
        assert (risk.screening_opened_at, risk.assessments_count) == (at("2026-11-18T09:00:00Z"), 0)
