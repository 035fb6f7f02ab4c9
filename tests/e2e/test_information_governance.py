"""Information governance across the real processes: a child past retention is disposed of
by the referral service and, from its `child.disposed` event alone, by the risk and meetings
services; a child under a legal hold is not; the dry run lists exactly what the run then
disposes; and no figure of a past period changes. On SQLite and on PostgreSQL (the suite's
database), through the gateway, with real tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem
from meetings_api.database import DISPOSALS as MEETINGS_DISPOSALS
from risk_api.assessments.models import Assessment, ChildRisk
from risk_api.database import DISPOSALS as RISK_DISPOSALS
from safeguarding_kit.db import Database
from safeguarding_kit.testing import eventually

pytestmark = pytest.mark.e2e

HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "risk_assessor", "meeting_coordinator"],
}
DATA_ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
DPO = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
TEAM_ANALYST = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["analyst"]}


def migrate_old_no_further_action_referral(gateway, tokens, given: str) -> str:
    """A referral from the partnership's old tracker: received in March 2012 about a child
    born in 1996, no further action. The child's 25th birthday passed in 2021."""
    response = gateway.post(
        "/api/v1/referrals/migrated",
        headers=tokens.headers(**DATA_ADMIN),
        json={
            "source_reference": f"OLD-TRACKER-{uuid.uuid4().hex[:10]}",
            "source_agency": "sheffield-schools",
            "received_at": "2012-03-01T10:00:00+00:00",
            "child": {
                "given_name": given,
                "family_name": "Longago",
                "date_of_birth": "1996-06-01",
                "gender": "female",
            },
            "referrer": {"name": "Ms Priya Shah", "role": "Designated safeguarding lead"},
            "concern_types": ["sexual_exploitation"],
            "summary": "Seen with older men outside the school gates.",
            "lawful_basis": {"basis": "consent"},
            "outcome": "no_further_action",
            "decided_at": "2012-03-02T15:00:00+00:00",
            "decision_reason": "Concerns not substantiated by the school or the family.",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["child_id"])


def assess(gateway, tokens, child_id: str) -> None:
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


def discuss_at_a_meeting(gateway, tokens, child_id: str) -> str:
    """A mapping meeting puts the child on its agenda and gives the police an action."""
    tomorrow = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    series = gateway.post(
        "/api/v1/meetings/series",
        headers=tokens.headers(**HUB),
        json={
            "meeting_type": "MAPPING",
            "title": f"Retention mapping {uuid.uuid4().hex[:6]}",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": f"{tomorrow.isoformat()}T14:00:00",
            "rrule": "FREQ=MONTHLY;COUNT=2",
            "quorum_agency_types": ["social_care", "police"],
        },
    )
    assert series.status_code == 201, series.text
    occurrences = gateway.get(
        f"/api/v1/meetings/series/{series.json()['id']}/occurrences", headers=tokens.headers(**HUB)
    )
    occurrence_id = occurrences.json()["items"][0]["id"]
    item = gateway.post(
        f"/api/v1/meetings/occurrences/{occurrence_id}/agenda/items",
        headers=tokens.headers(**HUB),
        json={
            "kind": "child",
            "title": "A child seen at the retail park",
            "child_ids": [child_id],
            "reason": "Raised by school",
        },
    )
    assert item.status_code == 201, item.text
    action = gateway.post(
        f"/api/v1/meetings/agenda-items/{item.json()['id']}/actions",
        headers=tokens.headers(**HUB),
        json={
            "description": "Police to visit the retail park with the child's worker.",
            "owner_agency": "south-yorkshire-police",
            "due_date": (date.today() + timedelta(days=14)).isoformat(),
            "child_id": child_id,
        },
    )
    assert action.status_code == 201, action.text
    return str(occurrence_id)


FIGURES = (
    ("/api/v1/stats/referrals", {"period": "2011-12", "group_by": "outcome"}),
    ("/api/v1/stats/referrals", {"period": "2011-12", "group_by": ["age_band", "concern_type"]}),
    ("/api/v1/stats/referrals", {"period": "2011-12", "group_by": ["gender", "source_agency_type"]}),
    ("/api/v1/stats/timeliness", {"period": "2011-12"}),
    ("/api/v1/risk/stats/levels", {}),
    ("/api/v1/risk/stats/movements", {}),
    ("/api/v1/risk/stats/assessments-per-child", {}),
    ("/api/v1/meetings/stats/actions", {}),
)


# When an exact figure of a period still open was read: "now", whatever it counts.
MOMENT_OF_READING = {"as_of", "events_until"}


def without_moment_of_reading(figure: Any) -> Any:
    if isinstance(figure, dict):
        return {k: without_moment_of_reading(v) for k, v in figure.items() if k not in MOMENT_OF_READING}
    if isinstance(figure, list):
        return [without_moment_of_reading(v) for v in figure]
    return figure


def every_figure(gateway, tokens) -> dict[str, Any]:
    """Every figure an exact-figures analyst and a protected-figures analyst read (less the
    moment an exact figure of the current year was read)."""
    seen = {}
    for caller_name, caller in (("exact", ANALYST), ("protected", TEAM_ANALYST)):
        for path, params in FIGURES:
            response = gateway.get(path, params=params, headers=tokens.headers(**caller))
            assert response.status_code == 200, (path, response.text)
            seen[f"{caller_name} {path} {params}"] = without_moment_of_reading(response.json())
    return seen


def disposal_run(gateway, tokens, *, dry_run: bool) -> dict[str, Any]:
    response = gateway.post(
        "/api/v1/retention/disposal-runs", headers=tokens.headers(**DPO), json={"dry_run": dry_run}
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def listed(run: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["subject_type"], str(r["subject_id"])) for r in run["records"]}


def held_by_risk(risk_db: Database, child_id: str) -> int:
    with risk_db.sessions() as session:
        child = uuid.UUID(child_id)
        return int(
            session.scalar(select(func.count()).select_from(Assessment).where(Assessment.child_id == child))
            or 0
        ) + int(
            session.scalar(select(func.count()).select_from(ChildRisk).where(ChildRisk.child_id == child))
            or 0
        )


def held_by_meetings(meetings_db: Database, child_id: str) -> int:
    with meetings_db.sessions() as session:
        actions = session.scalar(
            select(func.count()).select_from(Action).where(Action.child_id == uuid.UUID(child_id))
        )
        items = [i for i in session.scalars(select(AgendaItem.child_ids)) if child_id in (i or [])]
        return int(actions or 0) + len(items)


def disposal_recorded(database: Database, table, child_id: str) -> bool:
    with database.sessions() as session:
        return bool(
            session.scalar(
                select(func.count()).select_from(table).where(table.c.subject_id == uuid.UUID(child_id))
            )
        )


def test_a_child_past_retention_goes_from_every_service_a_held_child_stays_and_figures_do_not_move(
    gateway, stack_tokens, risk_db, meetings_db
):
    gone = migrate_old_no_further_action_referral(gateway, stack_tokens, "Olwen")
    kept = migrate_old_no_further_action_referral(gateway, stack_tokens, "Hattie")
    for child_id in (gone, kept):
        assess(gateway, stack_tokens, child_id)
        discuss_at_a_meeting(gateway, stack_tokens, child_id)
    eventually(
        lambda: held_by_risk(risk_db, gone) and held_by_meetings(meetings_db, gone),
        "risk and meetings hold the child",
    )

    # An inquiry asks for Hattie's records: the data protection officer places a hold.
    hold = gateway.post(
        "/api/v1/retention/legal-holds",
        headers={**stack_tokens.headers(**DPO), "Idempotency-Key": str(uuid.uuid4())},
        json={
            "subject_type": "child",
            "subject_id": kept,
            "reason": "The independent review of the 2012 school referrals asked for these records.",
            "reference": "Sheffield review 2026/04",
        },
    )
    assert hold.status_code == 201, hold.text

    before = every_figure(gateway, stack_tokens)

    preview = disposal_run(gateway, stack_tokens, dry_run=True)
    assert ("child", gone) in listed(preview)
    assert ("child", kept) not in listed(preview)
    assert gateway.get(f"/api/v1/children/{gone}", headers=stack_tokens.headers(**HUB)).status_code == 200

    run = disposal_run(gateway, stack_tokens, dry_run=False)
    assert listed(run) == listed(preview)

    # Gone from the referral service at once...
    assert gateway.get(f"/api/v1/children/{gone}", headers=stack_tokens.headers(**HUB)).status_code == 404
    assert gateway.get(f"/api/v1/children/{kept}", headers=stack_tokens.headers(**HUB)).status_code == 200
    # ...and, once the event has arrived, from the risk and meetings services.
    eventually(lambda: held_by_risk(risk_db, gone) == 0, "the risk service disposed of the child")
    eventually(
        lambda: held_by_meetings(meetings_db, gone) == 0, "the meetings service de-identified the child"
    )
    assert disposal_recorded(risk_db, RISK_DISPOSALS, gone)
    assert disposal_recorded(meetings_db, MEETINGS_DISPOSALS, gone)
    assert held_by_risk(risk_db, kept)
    assert held_by_meetings(meetings_db, kept)
    records = gateway.get("/api/v1/retention/disposals", headers=stack_tokens.headers(**DPO))
    assert records.status_code == 200, records.text
    assert gone in {str(r["subject_id"]) for r in records.json()["items"]}
    assert "Olwen" not in records.text

    assert every_figure(gateway, stack_tokens) == before


SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
SECOND_DPO = {**DPO, "sub": "reviewer@sheffield-council"}
REFERRER = {
    "name": "Ms Priya Shah",
    "role": "Designated safeguarding lead",
    "phone": "0114 496 0123",
    "email": "priya.shah@hillsborough-academy.example",
}


def test_a_subject_access_package_for_a_child_a_school_referred_holds_their_records_and_no_referrers_name(
    gateway, stack_tokens
):
    referral = gateway.post(
        "/api/v1/referrals",
        headers=stack_tokens.headers(**SCHOOL),
        json={
            "child": {
                "given_name": "Jordan",
                "family_name": "Accessby",
                "date_of_birth": "2011-03-14",
                "gender": "male",
            },
            "referrer": REFERRER,
            "concern_types": ["criminal_exploitation"],
            "summary": "Jordan has a second phone and is collected by older males after school.",
            "lawful_basis": {"basis": "consent"},
        },
    )
    assert referral.status_code == 201, referral.text
    child_id = str(referral.json()["child_id"])
    eventually(
        lambda: (
            gateway.get(f"/api/v1/risk/children/{child_id}", headers=stack_tokens.headers(**HUB)).status_code
            == 200
        ),
        "the referral opened a screening in the risk service",
    )
    assess(gateway, stack_tokens, child_id)
    discuss_at_a_meeting(gateway, stack_tokens, child_id)

    opened = gateway.post(
        "/api/v1/subject-access-requests",
        headers={**stack_tokens.headers(**DPO), "Idempotency-Key": str(uuid.uuid4())},
        json={
            "subject_type": "child",
            "subject_id": child_id,
            "received_on": date.today().isoformat(),
            "requester_relationship": "parent_or_carer",
            "identity_verified": True,
        },
    )
    assert opened.status_code == 201, opened.text
    request_path = f"/api/v1/subject-access-requests/{opened.json()['id']}"
    package = gateway.post(f"{request_path}/package", headers=stack_tokens.headers(**DPO))
    assert package.status_code == 200, package.text
    assert {i["source"] for i in package.json()["items"]} == {
        "referral-service",
        "risk-service",
        "meetings-service",
    }
    document = gateway.get(f"{request_path}/package.html", headers=stack_tokens.headers(**SECOND_DPO))
    assert document.status_code == 200, document.text
    assert (
        gateway.get(f"{request_path}/release.html", headers=stack_tokens.headers(**SECOND_DPO)).status_code
        == 409
    )

    decided = gateway.post(
        f"{request_path}/decision",
        headers={**stack_tokens.headers(**SECOND_DPO), "If-Match": package.headers["etag"]},
        json={
            "outcome": "release",
            "reasons": "Identity checked; the referrer is redacted.",
            "items": [
                {"item_id": item_id, "decision": "disclose"}
                for item_id in package.json()["decisions_required"]
            ],
        },
    )
    assert decided.status_code == 200, decided.text
    released = gateway.get(f"{request_path}/release.html", headers=stack_tokens.headers(**SECOND_DPO))
    assert released.status_code == 200, released.text

    for text in (package.text, document.text, released.text):
        assert "Accessby" in text
        assert "second phone" in text
        for trace in ("Priya", "Shah", "0114 496 0123", "hillsborough-academy"):
            assert trace not in text, trace
    # The other services' parts came over the real network, and the risk service audited its read.
    access_log = gateway.get(
        f"/api/v1/risk/children/{child_id}/access-log", headers=stack_tokens.headers(**DPO)
    )
    assert access_log.status_code == 200, access_log.text
    assert any(
        entry["resource_type"] == "subject_access_extract" and entry["actor_agency"] == "sheffield-council"
        for entry in access_log.json()["items"]
    )
