"""A data administrator loading referrals from the partnership's spreadsheet tracker with
their original received, decided and closed times (POST /api/v1/referrals/migrated)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from referral_scenarios import (
    AUDITOR,
    HUB_MANAGER,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    bearer,
    child_details,
    referral_body,
    submit,
)
from sqlalchemy import create_engine, text

from safeguarding_kit.db import normalise_url

MIGRATE = "/api/v1/referrals/migrated"
DATA_ADMIN = {
    "agency": "sheffield-council",
    "agency_type": "social_care",
    "roles": ["admin"],
    "sub": "data.admin@sheffield.gov.example",
}
HUB_ADMIN_WITHOUT_CAPACITY = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["admin"],
}
EXACT_ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}


def tracker_row(**overrides: Any) -> dict[str, Any]:
    """A referral of 2023 as the tracker kept it: received, signposted, then closed."""
    body: dict[str, Any] = {
        "source_reference": "TRACKER-2023-0042",
        "source_agency": "sheffield-schools",
        "received_at": "2023-05-10T09:30:00+01:00",
        "child": child_details(date_of_birth="2008-02-11", nhs_number=None),
        "concern_types": ["criminal_exploitation", "county_lines"],
        "summary": "Seen with older males near the station after school; new phone.",
        "lawful_basis": {"basis": "consent"},
        "urgency": "urgent",
        "outcome": "signposted",
        "decided_at": "2023-05-11T14:00:00+01:00",
        "decision_reason": "Below threshold; youth offer fits.",
        "signposted_to": "community-youth-team",
        "first_contact_at": "2023-05-15T16:00:00+01:00",
        "closed_at": "2023-08-30T12:00:00+01:00",
        "closure_reason": "Engaging with the youth team.",
    }
    body.update(copy.deepcopy(overrides))
    return {k: v for k, v in body.items() if v is not None}


def migrate(client: Any, tokens: Any, body: dict[str, Any], who: dict[str, Any] = DATA_ADMIN) -> Any:
    return client.post(MIGRATE, json=body, headers=bearer(tokens, who))


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_data_administrator_loads_a_2023_referral_with_its_decision_and_closure_and_it_reads_back_so(
    client, tokens
):
    loaded = migrate(client, tokens, tracker_row())
    assert loaded.status_code == 201, loaded.text
    assert loaded.headers["location"] == f"/api/v1/referrals/{loaded.json()['id']}"

    read = client.get(loaded.headers["location"], headers=bearer(tokens, SOCIAL_WORKER))
    assert read.status_code == 200, read.text
    referral = read.json()
    assert referral["migrated"] is True
    assert (referral["agency"], referral["agency_type"]) == ("sheffield-schools", "education")
    assert referral["source_reference"] == "TRACKER-2023-0042"
    assert (referral["status"], referral["signposted_to"]) == ("closed", "community-youth-team")
    assert instant(referral["received_at"]) == datetime(2023, 5, 10, 8, 30, tzinfo=UTC)
    assert instant(referral["decided_at"]) == datetime(2023, 5, 11, 13, 0, tzinfo=UTC)
    assert instant(referral["first_contact_at"]) == datetime(2023, 5, 15, 15, 0, tzinfo=UTC)
    assert referral["decision_overdue"] is False
    assert referral["referrer"]["name"] == "Not recorded in the source system"

    history = client.get(
        f"{loaded.headers['location']}/history", headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "received"),
        ("received", "signposted"),
        ("signposted", "closed"),
    ]
    assert [instant(h["occurred_at"]) for h in history] == [
        datetime(2023, 5, 10, 8, 30, tzinfo=UTC),
        datetime(2023, 5, 11, 13, 0, tzinfo=UTC),
        datetime(2023, 8, 30, 11, 0, tzinfo=UTC),
    ]
    assert {(h["actor_sub"], h["actor_agency"]) for h in history} == {
        ("data.admin@sheffield.gov.example", "sheffield-council")
    }
    assert all("migrated" in h["reason"] for h in history)

    # The school that made the referral sees it as one of its own.
    sent = client.get("/api/v1/referrals", headers=bearer(tokens, SCHOOL)).json()["items"]
    assert [r["id"] for r in sent] == [referral["id"]]


def test_a_referral_decided_on_the_day_it_was_received_lists_its_steps_in_workflow_order(client, tokens):
    same_day = "2023-06-01T00:00:00+01:00"
    loaded = migrate(
        client,
        tokens,
        tracker_row(
            received_at=same_day,
            decided_at=same_day,
            first_contact_at=same_day,
            closed_at=same_day,
            outcome="allocated",
            signposted_to=None,
            allocated_team="Exploitation Team North",
            allocated_agency="sheffield-social-care",
        ),
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["allocation"] == {
        "team": "Exploitation Team North",
        "worker": None,
        "agency": "sheffield-social-care",
    }
    history = client.get(
        f"/api/v1/referrals/{loaded.json()['id']}/history", headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["items"]
    assert [h["to_status"] for h in history] == ["received", "allocated", "closed"]


def test_an_undecided_historic_referral_is_loaded_as_received(client, tokens):
    loaded = migrate(
        client,
        tokens,
        tracker_row(
            outcome=None,
            decided_at=None,
            decision_reason=None,
            signposted_to=None,
            first_contact_at=None,
            closed_at=None,
            closure_reason=None,
        ),
    )
    assert loaded.status_code == 201, loaded.text
    assert (loaded.json()["status"], loaded.json()["decided_at"]) == ("received", None)


def test_the_same_source_reference_and_body_again_is_the_first_answer(client, tokens):
    first = migrate(client, tokens, tracker_row())
    again = migrate(client, tokens, tracker_row())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    listed = client.get("/api/v1/referrals", headers=bearer(tokens, SOCIAL_WORKER)).json()["items"]
    assert len(listed) == 1


def test_the_same_source_reference_with_another_body_is_422_and_changes_nothing(client, tokens):
    first = migrate(client, tokens, tracker_row())
    other = migrate(client, tokens, tracker_row(summary="A different referral altogether."))
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["type"].endswith("source-reference-reused")
    assert other.json()["errors"][0]["pointer"] == "#/source_reference"
    read = client.get(f"/api/v1/referrals/{first.json()['id']}", headers=bearer(tokens, SOCIAL_WORKER))
    assert read.json()["summary"] == first.json()["summary"]


def test_a_source_reference_is_unique_per_source_agency(client, tokens):
    school = migrate(client, tokens, tracker_row())
    police = migrate(client, tokens, tracker_row(source_agency="south-yorkshire-police"))
    assert school.status_code == police.status_code == 201
    assert school.json()["id"] != police.json()["id"]
    assert police.json()["agency_type"] == "police"


def test_a_source_reference_a_live_referral_of_that_agency_holds_is_409(client, tokens):
    live = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="TRACKER-2023-0042"),
        headers=bearer(tokens, SCHOOL),
    )
    assert live.status_code == 201, live.text
    clash = migrate(client, tokens, tracker_row())
    assert clash.status_code == 409, clash.text
    # Refused without a trace: fixing the reference then loads the row.
    assert migrate(client, tokens, tracker_row(source_reference="TRACKER-2023-0042-M")).status_code == 201


FUTURE = (datetime.now(UTC) + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        (
            {
                "received_at": FUTURE,
                "decided_at": None,
                "outcome": None,
                "decision_reason": None,
                "signposted_to": None,
                "first_contact_at": None,
                "closed_at": None,
            },
            "#/received_at",
        ),
        ({"closed_at": FUTURE}, "#/closed_at"),
        ({"first_contact_at": FUTURE}, "#/first_contact_at"),
        ({"decided_at": "2023-05-09T10:00:00+01:00"}, "#/decided_at"),
        ({"closed_at": "2023-05-11T13:00:00+01:00"}, "#/closed_at"),
        ({"first_contact_at": "2023-05-01T10:00:00+01:00"}, "#/first_contact_at"),
        ({"decided_at": None}, "#/decided_at"),
        ({"signposted_to": None}, "#/signposted_to"),
        ({"signposted_to": "Community Youth Team"}, "#/signposted_to"),
        ({"signposted_to": "the-youth-club-down-the-road"}, "#/signposted_to"),
        ({"allocated_team": "Team A"}, "#/allocated_team"),
        ({"source_agency": "a-made-up-agency"}, "#/source_agency"),
        ({"source_reference": None}, "#/source_reference"),
        ({"child": child_details(date_of_birth="2024-01-01")}, "#/child/date_of_birth"),
    ],
)
def test_an_impossible_time_or_outcome_is_422_naming_the_field_and_loads_nothing(
    client, tokens, overrides, pointer
):
    refused = migrate(client, tokens, tracker_row(**overrides))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert pointer in [e.get("pointer") for e in refused.json()["errors"]], refused.text
    assert client.get("/api/v1/referrals", headers=bearer(tokens, SOCIAL_WORKER)).json()["items"] == []


@pytest.mark.parametrize(
    "who",
    [HUB_MANAGER, HUB_ADMIN_WITHOUT_CAPACITY, SCHOOL, EXACT_ANALYST, {**DATA_ADMIN, "roles": ["manager"]}],
    ids=["hub-manager", "admin-without-migrates-records", "referrer", "analyst", "council-manager"],
)
def test_only_an_admin_of_an_agency_granted_migrates_records_may_load(client, tokens, who):
    refused = migrate(client, tokens, tracker_row(), who)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert client.get("/api/v1/referrals", headers=bearer(tokens, SOCIAL_WORKER)).json()["items"] == []


def test_a_person_of_30_today_may_be_migrated_but_not_referred_live(client, tokens):
    today = date.today()
    born = date(today.year - 30, 1, 15)
    person = child_details(date_of_birth=born.isoformat(), given_name="Alex", family_name="Former")
    received = datetime(today.year - 6, 6, 1, 10, 0, tzinfo=UTC)  # at 24
    loaded = migrate(
        client,
        tokens,
        tracker_row(
            child=person,
            received_at=received.isoformat(),
            decided_at=(received + timedelta(days=1)).isoformat(),
            first_contact_at=None,
            closed_at=(received + timedelta(days=30)).isoformat(),
        ),
    )
    assert loaded.status_code == 201, loaded.text

    live = client.post("/api/v1/referrals", json=referral_body(child=person), headers=bearer(tokens, SCHOOL))
    assert live.status_code == 422
    assert live.json()["errors"][0]["pointer"] == "#/child/date_of_birth"


def test_a_person_over_25_when_referred_is_refused_even_by_migration(client, tokens):
    refused = migrate(client, tokens, tracker_row(child=child_details(date_of_birth="1990-03-01")))
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["#/child/date_of_birth"]


def test_loading_a_referral_is_in_the_childs_audit_trail(client, tokens):
    loaded = migrate(client, tokens, tracker_row()).json()
    log = client.get(f"/api/v1/children/{loaded['child_id']}/access-log", headers=bearer(tokens, AUDITOR))
    assert log.status_code == 200, log.text
    entries = [
        (e["actor_sub"], e["action"], e["resource_type"], e["resource_id"], e["outcome"])
        for e in log.json()["items"]
    ]
    assert ("data.admin@sheffield.gov.example", "migrate", "referral", loaded["id"], "allowed") in entries


def test_a_migrated_referral_announces_no_referral_event(client, tokens, database_url):
    migrate(client, tokens, tracker_row())
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        types = {row.type for row in conn.execute(text("SELECT type FROM outbox_events"))}
    engine.dispose()
    assert not {t for t in types if t.startswith("referral.")}
    assert "child.agency_linked" in types  # the source agency's access, as for a live referral


def test_a_migrated_referral_counts_in_its_original_quarter(client, tokens):
    assert migrate(client, tokens, tracker_row()).status_code == 201
    figures = client.get(
        "/api/v1/stats/referrals",
        params=[("group_by", "quarter"), ("from", "2023-01-01T00:00:00Z"), ("to", "2024-01-01T00:00:00Z")],
        headers=bearer(tokens, EXACT_ANALYST),
    )
    assert figures.status_code == 200, figures.text
    counts = {c["key"]["quarter"]: c["count"] for c in figures.json()["cells"] if c["count"]}
    assert counts == {"2023-Q2": 1}


def test_the_list_counts_earlier_referrals_as_each_record_does_even_received_at_the_same_instant(
    client, tokens
):
    """Three referrals about one child loaded with the same received time, then a live one:
    each comes after the others in one order (by id), so the list and the records count
    0, 1 and 2 earlier referrals for the three and 3 for the live one, and each lists its
    own concerns."""
    nhs = {"child": child_details(date_of_birth="2008-02-11", nhs_number="9434765919")}
    kinds = [["sexual_exploitation"], ["county_lines", "criminal_exploitation"], ["missing"]]
    for n, concern_types in enumerate(kinds):
        row = tracker_row(source_reference=f"TRACKER-SAME-{n}", concern_types=concern_types, **nhs)
        assert migrate(client, tokens, row).status_code == 201
    live = submit(client, tokens, **nhs)
    listed = client.get(
        "/api/v1/referrals", params={"child_id": live["child_id"]}, headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["items"]
    assert len(listed) == 4
    for item in listed:
        record = client.get(f"/api/v1/referrals/{item['id']}", headers=bearer(tokens, SOCIAL_WORKER)).json()
        assert (item["previous_referrals"], item["concern_types"]) == (
            record["previous_referrals"],
            record["concern_types"],
        )
    assert sorted(item["previous_referrals"] for item in listed) == [0, 1, 2, 3]
    assert next(item for item in listed if item["id"] == live["id"])["previous_referrals"] == 3
    assert sorted(item["concern_types"] for item in listed if item["id"] != live["id"]) == sorted(kinds)
