"""The scrutiny committee's disruption figures: the notice and the charge in their financial
quarter, exact for the council's `exact_figures` analyst and `c` for everyone else; every
kind listed, zeros included; and what disposal does to an action and its children (the
figures keep counting it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from referral_scenarios import HUB_MANAGER, POLICE, SOCIAL_WORKER, bearer, child_details
from retention_scenarios import as_of, place_hold, referred_child, release, run
from sqlalchemy import func, select

from referral_api.disruption import service as disruption_service
from referral_api.disruption.models import DisruptionAction, DisruptionActionChild
from referral_api.disruption.vocabulary import load_vocabulary
from referral_api.stats.models import DisruptionActionFact

OFFICER = {**POLICE, "roles": ["practitioner"]}
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
POLICE_ANALYST = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["analyst"]}
FIGURES = "/api/v1/stats/disruption"
# Recorded in September 2026, so every reader counts them (protected figures count to the
# start of the current month).
RECORDED_AT = datetime(2026, 9, 20, 10, tzinfo=UTC)


@pytest.fixture
def recorded_in_september(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disruption_service, "utc_now", lambda: RECORDED_AT)


def _person(client: Any, tokens: Any, child_id: str) -> str:
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=bearer(tokens, OFFICER)
    ).json()
    client.post(
        f"/api/v1/persons-of-concern/{person['id']}/links",
        json={"child_id": child_id},
        headers=bearer(tokens, OFFICER),
    )
    return str(person["id"])


def notice_and_charge(client: Any, tokens: Any, child_id: str) -> str:
    """The police's notice (14 August 2026) and charge (18 September) against a person
    linked to the child; the person's id."""
    person_id = _person(client, tokens, child_id)
    for kind, day, outcome in (
        ("child_abduction_warning_notice", "2026-08-14", "issued"),
        ("charge", "2026-09-18", "pending"),
    ):
        answer = client.post(
            "/api/v1/disruption/actions",
            json={
                "kind": kind,
                "person_of_concern_id": person_id,
                "action_date": day,
                "outcome": outcome,
                "child_ids": [child_id],
            },
            headers=bearer(tokens, OFFICER),
        )
        assert answer.status_code == 201, answer.text
    return person_id


def figures(client: Any, tokens: Any, who: dict[str, Any], **params: str) -> dict[str, Any]:
    answer = client.get(FIGURES, params={"period": "2026-27", **params}, headers=bearer(tokens, who))
    assert answer.status_code == 200, answer.text
    assert answer.headers["etag"]
    return dict(answer.json())


def cell(table: dict[str, Any], **key: str) -> dict[str, Any]:
    [found] = [c for c in table["cells"] if c["key"] == key]
    return dict(found)


def count_of(client: Any, model: Any) -> int:
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def child(client: Any, tokens: Any) -> str:
    answer = client.post("/api/v1/children", json=child_details(), headers=bearer(tokens, SOCIAL_WORKER))
    return str(answer.json()["id"])


def test_the_notice_and_the_charge_show_exactly_in_their_quarter_for_the_councils_analyst(
    client, tokens, recorded_in_september
):
    notice_and_charge(client, tokens, child(client, tokens))
    body = figures(client, tokens, ANALYST)
    actions, charges = body["actions"], body["charges_and_convictions"]
    assert actions["exact"] is True
    assert actions["dimensions"] == ["kind", "financial_quarter"]
    assert cell(actions, kind="child_abduction_warning_notice", financial_quarter="2026-27-Q2")["count"] == 1
    assert cell(actions, kind="charge", financial_quarter="2026-27-Q2")["count"] == 1
    assert cell(actions, kind="charge", financial_quarter="2026-27-Q1")["count"] == 0
    assert cell(charges, measure="charges", financial_quarter="2026-27-Q2")["count"] == 1
    assert cell(charges, measure="convictions", financial_quarter="2026-27-Q2")["count"] == 0
    assert actions["total"]["count"] == 2
    # Every kind of the vocabulary and every quarter of the year, zeros included.
    kinds = load_vocabulary().slugs
    assert [t["key"]["kind"] for t in actions["row_totals"]] == kinds
    assert [t["key"]["financial_quarter"] for t in actions["column_totals"]] == [
        f"2026-27-Q{q}" for q in range(1, 5)
    ]
    assert len(actions["cells"]) == len(kinds) * 4


def test_the_notice_and_the_charge_are_c_for_a_reader_without_exact_figures(
    client, tokens, recorded_in_september
):
    notice_and_charge(client, tokens, child(client, tokens))
    for reader in (HUB_MANAGER, POLICE_ANALYST):
        body = figures(client, tokens, reader)
        actions, charges = body["actions"], body["charges_and_convictions"]
        assert actions["exact"] is False
        for table, key in (
            (actions, {"kind": "child_abduction_warning_notice", "financial_quarter": "2026-27-Q2"}),
            (actions, {"kind": "charge", "financial_quarter": "2026-27-Q2"}),
            (charges, {"measure": "charges", "financial_quarter": "2026-27-Q2"}),
        ):
            shown = cell(table, **key)
            assert (shown["display"], shown["count"], shown["suppressed"]) == ("c", None, "primary")
        every_count = [
            c for t in (actions, charges) for c in t["cells"] + t["row_totals"] + t["column_totals"]
        ]
        assert all(c["count"] is None or c["count"] == 0 or c["count"] > 5 for c in every_count)


def test_an_action_recorded_this_month_waits_for_next_month_without_exact_figures(client, tokens):
    notice_and_charge(client, tokens, child(client, tokens))  # recorded now, dated August and September
    protected = figures(client, tokens, HUB_MANAGER)["actions"]
    assert protected["total"]["count"] == 0
    assert figures(client, tokens, ANALYST)["actions"]["total"]["count"] == 2


def test_a_charge_recorded_with_a_later_outcome_stays_in_its_quarter(client, tokens, recorded_in_september):
    notice_and_charge(client, tokens, child(client, tokens))
    with client.app.state.database.sessions() as session:
        charge = session.scalars(select(DisruptionAction).where(DisruptionAction.kind == "charge")).one()
        charge_id, version = charge.id, charge.row_version
    changed = client.patch(
        f"/api/v1/disruption/actions/{charge_id}",
        json={"outcome": "convicted", "outcome_date": "2026-09-19"},
        headers={**bearer(tokens, OFFICER), "If-Match": f'"{version}"'},
    )
    assert changed.status_code == 200, changed.text
    charges = figures(client, tokens, ANALYST)["charges_and_convictions"]
    assert cell(charges, measure="charges", financial_quarter="2026-27-Q2")["count"] == 1
    assert charges["total"]["count"] == 1  # a conviction is an action of its own


def test_figures_need_a_figure_reader_and_refuse_a_bad_period(client, tokens):
    assert client.get(FIGURES).status_code == 401
    refused = client.get(FIGURES, params={"period": "2026-28"}, headers=bearer(tokens, ANALYST))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["parameter"] == "period"


def test_disposing_of_the_child_keeps_the_action_and_disposing_of_the_person_keeps_its_facts(
    client, tokens, monkeypatch
):
    child_id = referred_child(client, tokens, "signposted")  # kept to the 25th birthday, long before 2200
    person_id = notice_and_charge(client, tokens, child_id)
    held = place_hold(client, tokens, subject_type="person_of_concern", subject_id=person_id)
    assert held.status_code == 201, held.text

    as_of(monkeypatch, datetime(2200, 1, 1, 3, tzinfo=UTC))
    run(client, tokens, dry_run=False)
    with client.app.state.database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisruptionAction)) == 2
        assert session.scalar(select(func.count()).select_from(DisruptionActionChild)) == 0
    assert figures(client, tokens, ANALYST)["actions"]["total"]["count"] == 2

    assert release(client, tokens, held).status_code == 200
    as_of(monkeypatch, datetime(2200, 1, 1, 3, tzinfo=UTC) + timedelta(days=1))
    run(client, tokens, dry_run=False)
    with client.app.state.database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisruptionAction)) == 0
        assert session.scalar(select(func.count()).select_from(DisruptionActionChild)) == 0
    # The figures count the de-identified facts kept of the person's actions.
    assert count_of(client, DisruptionActionFact) == 2
    assert figures(client, tokens, ANALYST)["actions"]["total"]["count"] == 2
