"""Disposal of what is past the retention schedule: a child's record goes from every table
of the referral service in one go (figures kept de-identified, a disposal record per
record class, the other services told, the audit trail kept), unless a legal hold keeps
it; persons and places of concern go six clear years after their last activity; and what
a dry run lists is exactly what the run then disposes of."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from referral_scenarios import (
    HUB_MANAGER,
    SCHOOL,
    SOCIAL_WORKER,
    bearer,
    child_details,
    screen_and_decide,
    submit,
)
from retention_scenarios import (
    CHURCH,
    IG_OFFICER,
    LONG_AFTER,
    POLICE_OFFICER,
    as_of,
    audit_actions,
    child_exists,
    count,
    disposal_records,
    events_of,
    listed,
    place_hold,
    referred_child,
    release,
    run,
)
from sqlalchemy import Text, cast, select
from support_scenarios import HUB_WORKER, POST_ABUSE, end, offered, record_contact, start

from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern
from referral_api.database import AUDIT, DISPOSALS, IDEMPOTENCY
from referral_api.disruption import service as disruption_service
from referral_api.models import Base
from referral_api.referrals.models import Referral
from referral_api.retention import disposal
from referral_api.retention.__main__ import main as retention_command
from referral_api.retention.job import dispose_once
from referral_api.stats.models import (
    DisruptionActionFact,
    PlaceFact,
    ReferralFact,
    SupportContactFact,
    SupportFact,
)
from referral_api.subject_access.models import RequestStatus, SubjectAccessPackage, SubjectAccessRequest
from safeguarding_kit.idempotency import HEADER
from safeguarding_kit.periods import england_day
from safeguarding_kit.retention.schedule import load_schedule

YOUTH_WORKER = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["practitioner"]}
DATA_ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
KEPT_TABLES = {AUDIT.log.name, AUDIT.head.name, DISPOSALS.name}


def a_full_case(client, tokens) -> tuple[str, list[str]]:
    """A child with everything the referral service holds about a child: a school's
    referral (sent with an Idempotency-Key) the hub allocated, a police referral, a
    missing episode, a youth pastor's information, a person of concern linked to the
    child and to a referral (with a warning notice that names the child), support with a
    contact, and a youth worker's break-glass grant. The child's id and its referrals' ids."""
    first = client.post(
        "/api/v1/referrals",
        json={
            "child": child_details(),
            "referrer": {"name": "Sam Teacher", "role": "DSL", "email": "dsl@school.example"},
            "concern_types": ["criminal_exploitation"],
            "summary": "Seen getting into cars with older males after school.",
            "lawful_basis": {"basis": "consent"},
            "urgency": "urgent",
        },
        headers={**bearer(tokens, SCHOOL), HEADER: "school-referral-0001"},
    )
    assert first.status_code == 201, first.text
    child_id = first.json()["child_id"]
    screen_and_decide(client, tokens, first.json(), "allocated")
    police = submit(client, tokens, POLICE_OFFICER, child=None, child_id=child_id)
    reported = client.post(
        "/api/v1/missing-episodes",
        json={
            "child_id": child_id,
            "reported_missing_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        },
        headers=bearer(tokens, POLICE_OFFICER),
    )
    assert reported.status_code == 201, reported.text
    information = client.post(
        "/api/v1/third-party-information",
        json={
            "informant": {"name": "Alex Helper", "role": "Youth pastor"},
            "child": {"given_name": "Jordan", "family_name": "Example", "date_of_birth": "2011-03-14"},
            "information": "Seen late at night with adults who drive him away.",
            "concern_types": ["criminal_exploitation"],
            "lawful_basis": {"basis": "safeguarding_without_consent", "reason": "Telling may alert them."},
        },
        headers=bearer(tokens, CHURCH),
    )
    assert information.status_code == 202, information.text
    person = client.post(
        "/api/v1/persons-of-concern",
        json={"alias": "Shadz", "gender": "male"},
        headers=bearer(tokens, POLICE_OFFICER),
    ).json()
    for link in ({"child_id": child_id}, {"referral_id": police["id"]}):
        linked = client.post(
            f"/api/v1/persons-of-concern/{person['id']}/links",
            json=link,
            headers={**bearer(tokens, POLICE_OFFICER), HEADER: f"link-{uuid.uuid4()}"},
        )
        assert linked.status_code == 200, linked.text
    today = england_day(datetime.now(UTC)).isoformat()
    notice = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "child_abduction_warning_notice",
            "person_of_concern_id": person["id"],
            "action_date": today,
            "outcome": "issued",
            "child_ids": [child_id],
        },
        headers=bearer(tokens, POLICE_OFFICER),
    )
    assert notice.status_code == 201, notice.text
    support = offered(client, tokens, child_id)
    started = start(client, tokens, support, datetime.now(UTC).isoformat(), HUB_WORKER)
    assert started.status_code == 200, started.text
    assert record_contact(client, tokens, started.json(), HUB_WORKER, contacted_on=today).status_code == 201
    grant = client.post(
        f"/api/v1/children/{child_id}/break-glass",
        json={"reason": "Found at 02:00 in a hotel with two adults; planning tonight's placement."},
        headers=bearer(tokens, YOUTH_WORKER),
    )
    assert grant.status_code == 201, grant.text
    return child_id, [first.json()["id"], police["id"]]


def rows_about(client, child_id: str, referral_ids: list[str]) -> dict[str, int]:
    """How many rows of each table (but the audit trail and disposal records) still
    refer to the child or its referrals."""
    child, referrals = uuid.UUID(child_id), [uuid.UUID(r) for r in referral_ids]
    left = {}
    for table in Base.metadata.sorted_tables:
        if table.name in KEPT_TABLES:
            continue
        conditions = [table.c.child_id == child] if "child_id" in table.c else []
        conditions += [table.c.referral_id.in_(referrals)] if "referral_id" in table.c else []
        conditions += [table.c.id.in_([child, *referrals])] if table.name in ("children", "referrals") else []
        for condition in conditions:
            left[f"{table.name}: {condition}"] = count(client, table, condition)
    return {where: n for where, n in left.items() if n}


def test_a_child_past_retention_goes_from_every_table_with_a_disposal_record_and_an_event(
    client, tokens, monkeypatch
):
    child_id, referral_ids = a_full_case(client, tokens)
    assert rows_about(client, child_id, referral_ids)  # there is a lot to dispose of

    as_of(monkeypatch, LONG_AFTER)
    disposed = run(client, tokens, dry_run=False)

    [record] = [r for r in disposed["records"] if r["subject_id"] == child_id]
    assert record["subject_type"] == "child"
    assert [c["record_class"] for c in record["record_classes"]] == [
        "exploitation_case_record",
        "missing_episode",
        "third_party_information",
    ]
    assert not child_exists(client, child_id)
    assert rows_about(client, child_id, referral_ids) == {}
    read = client.get(f"/api/v1/children/{child_id}", headers=bearer(tokens, SOCIAL_WORKER))
    assert read.status_code == 404
    # No stored answer to a retried create still names the child or its referrals.
    with client.app.state.database.sessions() as session:
        bodies = session.scalars(select(cast(IDEMPOTENCY.c.response_body, Text))).all()
    assert not [b for b in bodies if b and any(i in b for i in (child_id, *referral_ids))]
    # The figures keep their de-identified facts; the disposal records keep no content.
    assert count(client, ReferralFact) == 2
    assert (count(client, SupportFact), count(client, SupportContactFact)) == (1, 1)
    assert count(client, DisruptionActionFact) == 1  # the person went too, six clear years on
    assert disposal_records(client, child_id) == [
        ("exploitation_case_record", "child", "retention"),
        ("missing_episode", "child", "retention"),
        ("third_party_information", "child", "retention"),
    ]
    [event] = [e for e in events_of(client, "child.disposed") if e["subject"] == child_id]
    assert set(event["data"]) == {"child_id", "record_classes", "disposed_at"}
    assert event["data"]["child_id"] == child_id
    assert event["data"]["record_classes"] == [
        "exploitation_case_record",
        "missing_episode",
        "third_party_information",
    ]
    # The audit trail is kept, and says who disposed of the record.
    actions = audit_actions(client, child_id)
    assert ("create", "referral") in {(a, r) for _, a, r in actions}
    assert actions[-1] == (IG_OFFICER["sub"], "dispose", "child")


def test_a_held_child_is_kept_until_the_hold_is_released(client, tokens, monkeypatch):
    child_id = referred_child(client, tokens, "signposted")
    hold = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    assert hold.status_code == 201, hold.text
    as_of(monkeypatch, LONG_AFTER)

    kept = run(client, tokens, dry_run=False)
    assert child_id not in listed(kept)
    assert child_id in listed(kept, "held")
    assert child_exists(client, child_id)
    assert disposal_records(client, child_id) == []

    assert release(client, tokens, hold).status_code == 200
    assert child_id in listed(run(client, tokens, dry_run=False))
    assert not child_exists(client, child_id)
    # Nothing is left to hold.
    too_late = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    assert too_late.status_code == 422
    assert too_late.json()["type"] == "urn:safeguarding:problem:unknown-hold-subject"


def test_a_hold_on_a_record_class_keeps_every_child_of_that_class(client, tokens, monkeypatch):
    signposted = referred_child(client, tokens, "signposted", given_name="Ava")
    no_further_action = referred_child(client, tokens, "no_further_action", given_name="Ben")
    allocated = referred_child(client, tokens, "allocated", given_name="Cal")
    hold = place_hold(client, tokens, subject_type="record_class", record_class="no_further_action_referral")
    assert hold.status_code == 201, hold.text
    as_of(monkeypatch, LONG_AFTER)

    disposed = run(client, tokens, dry_run=False)
    assert allocated in listed(disposed)
    assert {signposted, no_further_action} <= listed(disposed, "held")
    assert {signposted, no_further_action}.isdisjoint(listed(disposed))
    assert child_exists(client, signposted)
    assert child_exists(client, no_further_action)
    assert not child_exists(client, allocated)


def test_a_hold_on_a_class_keeps_a_child_that_has_other_classes_too(client, tokens, monkeypatch):
    child_id = referred_child(client, tokens, "signposted")
    reported = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": child_id, "reported_missing_at": "2026-10-09T07:30:00+01:00"},
        headers=bearer(tokens, POLICE_OFFICER),
    )
    assert reported.status_code == 201
    assert (
        place_hold(client, tokens, subject_type="record_class", record_class="missing_episode").status_code
        == 201
    )
    as_of(monkeypatch, LONG_AFTER)
    assert child_id in listed(run(client, tokens, dry_run=True), "held")


def test_the_dry_run_lists_exactly_what_the_run_then_disposes_of(client, tokens, monkeypatch):
    for given_name, outcome in (("Ava", "signposted"), ("Ben", "allocated"), ("Cal", None)):
        referred_child(client, tokens, outcome, given_name=given_name)
    held = referred_child(client, tokens, "no_further_action", given_name="Dee")
    assert place_hold(client, tokens, subject_type="child", subject_id=held).status_code == 201
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=bearer(tokens, POLICE_OFFICER)
    ).json()
    place = client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "hotel", "name": "Station Hotel", "ward_code": "E05010863"},
        headers=bearer(tokens, POLICE_OFFICER),
    ).json()
    as_of(monkeypatch, LONG_AFTER)

    preview = run(client, tokens, dry_run=True)
    assert count(client, DISPOSALS) == 0  # a dry run disposes of nothing
    assert {r["subject_type"] for r in preview["records"]} == {
        "child",
        "person_of_concern",
        "place_of_concern",
    }
    assert {person["id"], place["id"]} <= listed(preview)
    assert held in listed(preview, "held")

    disposed = run(client, tokens, dry_run=False)
    assert disposed["records"] == preview["records"]
    assert disposed["held"] == preview["held"]
    assert run(client, tokens, dry_run=True)["records"] == []  # nothing left to go


def test_the_service_functions_dry_run_and_real_run_agree(client, tokens):
    for given_name in ("Ava", "Ben"):
        referred_child(client, tokens, "signposted", given_name=given_name)
    schedule = load_schedule()
    with client.app.state.database.sessions() as session:
        preview = disposal.dispose_due_records(session, schedule, LONG_AFTER, dry_run=True)
    with client.app.state.database.sessions() as session:
        disposed = disposal.dispose_due_records(
            session, schedule, LONG_AFTER, dry_run=False, outbox=client.app.state.outbox
        )
    assert len(preview) == 2
    assert disposed == preview


def a_child_referred_in_2014(client, tokens) -> str:
    """A child born in 1998, signposted in 2014 (loaded from the tracker): 25 since 2023."""
    loaded = client.post(
        "/api/v1/referrals/migrated",
        json={
            "source_reference": "TRACKER-2014-0007",
            "source_agency": "sheffield-schools",
            "received_at": "2014-05-10T09:30:00+01:00",
            "child": child_details(date_of_birth="1998-02-11", nhs_number=None),
            "concern_types": ["criminal_exploitation"],
            "summary": "Seen with older males near the station after school.",
            "lawful_basis": {"basis": "consent"},
            "urgency": "urgent",
            "outcome": "signposted",
            "decided_at": "2014-05-11T14:00:00+01:00",
            "signposted_to": "community-youth-team",
        },
        headers=bearer(tokens, DATA_ADMIN),
    )
    assert loaded.status_code == 201, loaded.text
    return str(loaded.json()["child_id"])


def test_a_child_referred_in_2014_and_25_now_is_disposed_of_by_the_job(client, tokens):
    child_id = a_child_referred_in_2014(client, tokens)
    young = referred_child(client, tokens, "signposted", given_name="Ava")  # 15 today: kept

    preview = run(client, tokens, dry_run=True)  # today, by the real clock
    [record] = [r for r in preview["records"] if r["subject_id"] == child_id]
    assert record["due_on"] == "2023-02-11"  # the 25th birthday
    assert record["record_classes"] == [
        {
            "record_class": "no_further_action_referral",
            "rule": "until the 25th birthday",
            "due_on": "2023-02-11",
        }
    ]
    assert young not in listed(preview)
    # Listing a child as due is a read of its record, audited like any other.
    assert audit_actions(client, child_id)[-1] == (IG_OFFICER["sub"], "review_retention", "child")

    app = client.app
    assert dispose_once(app.state.database, app.state.outbox, None) == 1
    assert not child_exists(client, child_id)
    assert child_exists(client, young)
    assert audit_actions(client, child_id)[-1] == ("system:retention", "dispose", "child")


def test_a_merged_record_goes_with_the_surviving_record(client, tokens, monkeypatch):
    keep = client.post("/api/v1/children", json=child_details(), headers=bearer(tokens, SOCIAL_WORKER)).json()
    duplicate = client.post(
        "/api/v1/children", json=child_details(given_name="Jordon"), headers=bearer(tokens, SOCIAL_WORKER)
    ).json()
    merged = client.post(
        f"/api/v1/children/{keep['id']}/merge",
        json={"duplicate_id": duplicate["id"], "reason": "Same child, spelling error."},
        headers={**bearer(tokens, HUB_MANAGER), "If-Match": f'"{keep["version"]}"'},
    )
    assert merged.status_code == 200, merged.text
    as_of(monkeypatch, LONG_AFTER)

    hold = place_hold(client, tokens, subject_type="child", subject_id=duplicate["id"])
    kept = run(client, tokens, dry_run=True)
    assert listed(kept, "held") == {keep["id"]}  # a hold on either record keeps both

    release(client, tokens, hold)
    disposed = run(client, tokens, dry_run=False)
    assert listed(disposed) == {keep["id"]}  # listed once, under the surviving record
    assert not child_exists(client, keep["id"])
    assert not child_exists(client, duplicate["id"])
    assert audit_actions(client, duplicate["id"])[-1] == (
        "ig.officer@sheffield.gov.example",
        "dispose",
        "child",
    )


def test_persons_and_places_of_concern_go_six_clear_years_after_their_last_activity(
    client, tokens, monkeypatch
):
    child_id = referred_child(client, tokens, "signposted")  # born 2011: kept until 2036
    officer = bearer(tokens, POLICE_OFFICER)
    quiet = client.post("/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=officer).json()
    client.post(
        f"/api/v1/persons-of-concern/{quiet['id']}/links", json={"child_id": child_id}, headers=officer
    )
    place = client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "takeaway", "name": "Late-night takeaway", "ward_code": "E05010863"},
        headers=officer,
    ).json()
    client.post(
        f"/api/v1/places-of-concern/{place['id']}/links", json={"person_id": quiet["id"]}, headers=officer
    )
    held = client.post("/api/v1/persons-of-concern", json={"alias": "Dee"}, headers=officer).json()
    assert (
        place_hold(client, tokens, subject_type="person_of_concern", subject_id=held["id"]).status_code == 201
    )

    as_of(monkeypatch, datetime.now(UTC) + timedelta(days=6 * 365))  # not six clear years yet
    assert {quiet["id"], place["id"]}.isdisjoint(listed(run(client, tokens, dry_run=True)))

    as_of(monkeypatch, datetime.now(UTC) + timedelta(days=7 * 365))
    disposed = run(client, tokens, dry_run=False)
    assert {quiet["id"], place["id"]} <= listed(disposed)
    assert held["id"] in listed(disposed, "held")
    assert child_id not in listed(disposed)  # the child's own record is kept to 25
    with client.app.state.database.sessions() as session:
        assert session.get(PersonOfConcern, uuid.UUID(quiet["id"])) is None
        assert session.get(PlaceOfConcern, uuid.UUID(place["id"])) is None
        assert session.get(PersonOfConcern, uuid.UUID(held["id"])) is not None
    assert count(client, ConcernLink) == 0
    assert count(client, PlaceFact) == 1  # the places-by-ward figure keeps the place's facts
    assert disposal_records(client, quiet["id"]) == [("person_of_concern", "person_of_concern", "retention")]
    assert disposal_records(client, place["id"]) == [("place_of_concern", "place_of_concern", "retention")]
    assert child_exists(client, child_id)
    assert count(client, Referral) == 1


def test_a_person_of_concern_changed_recently_is_kept(client, tokens, monkeypatch):
    officer = bearer(tokens, POLICE_OFFICER)
    person = client.post("/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=officer)
    later = datetime.now(UTC) + timedelta(days=3 * 365)
    with client.app.state.database.sessions() as session:  # changed three years after it was recorded
        recorded = session.get_one(PersonOfConcern, uuid.UUID(person.json()["id"]))
        recorded.updated_at = later
        session.commit()
    as_of(monkeypatch, datetime.now(UTC) + timedelta(days=7 * 365))
    assert person.json()["id"] not in listed(run(client, tokens, dry_run=True))


def test_a_child_whose_referral_is_old_but_whose_support_ended_recently_is_kept(
    client, tokens, monkeypatch, support_clock
):
    """Support is activity on the child's record: the 75 years of an exploitation case run from
    the end of the child's support, not from the referral that opened the case."""
    child_id = referred_child(client, tokens, "allocated")
    referred_on = datetime.now(UTC)
    ten_years_on = support_clock.now = referred_on + timedelta(days=10 * 365)  # the support ends
    support = offered(
        client,
        tokens,
        child_id,
        {**POST_ABUSE, "requested_at": (ten_years_on - timedelta(days=300)).isoformat()},
    )
    started = start(client, tokens, support, (ten_years_on - timedelta(days=200)).isoformat(), HUB_WORKER)
    assert started.status_code == 200, started.text
    ended = end(client, tokens, started.json(), ten_years_on.isoformat(), "goals_met", HUB_WORKER)
    assert ended.status_code == 200, ended.text

    as_of(monkeypatch, referred_on + timedelta(days=80 * 365))  # past 75 years after the referral
    assert child_id not in listed(run(client, tokens, dry_run=True))
    as_of(monkeypatch, referred_on + timedelta(days=86 * 365))  # past 75 years after the support ended
    [record] = [r for r in run(client, tokens, dry_run=True)["records"] if r["subject_id"] == child_id]
    assert record["last_activity_on"] == england_day(ten_years_on).isoformat()


def test_a_person_and_a_place_of_concern_with_recent_disruption_actions_are_kept(client, tokens, monkeypatch):
    """A disruption action recorded against a person or place, or its outcome updated, is
    activity on their record: the six clear years run from it."""
    officer = bearer(tokens, POLICE_OFFICER)
    person = client.post("/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=officer).json()
    place = client.post(
        "/api/v1/places-of-concern", json={"place_type": "hotel", "name": "Station Hotel"}, headers=officer
    ).json()
    recorded_on = datetime.now(UTC)
    clock = {"now": recorded_on + timedelta(days=365)}
    monkeypatch.setattr(disruption_service, "utc_now", lambda: clock["now"])
    charge = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "charge",
            "person_of_concern_id": person["id"],
            "action_date": england_day(clock["now"]).isoformat(),
            "outcome": "pending",
        },
        headers=officer,
    )
    assert charge.status_code == 201, charge.text
    clock["now"] = recorded_on + timedelta(days=3 * 365)  # two years later: convicted; a notice to the hotel
    convicted = client.patch(
        f"/api/v1/disruption/actions/{charge.json()['id']}",
        json={"outcome": "convicted"},
        headers={**officer, "If-Match": charge.headers["etag"]},
    )
    assert convicted.status_code == 200, convicted.text
    notice = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "closure_notice",
            "place_of_concern_id": place["id"],
            "action_date": england_day(clock["now"]).isoformat(),
            "outcome": "issued",
        },
        headers=officer,
    )
    assert notice.status_code == 201, notice.text

    as_of(monkeypatch, recorded_on + timedelta(days=8 * 365))  # six clear years after the charge
    assert {person["id"], place["id"]}.isdisjoint(listed(run(client, tokens, dry_run=True)))
    as_of(monkeypatch, recorded_on + timedelta(days=10 * 365))  # six clear years after the conviction
    preview = run(client, tokens, dry_run=True)
    assert {person["id"], place["id"]} <= listed(preview)
    activity = {r["subject_id"]: r["last_activity_on"] for r in preview["records"]}
    assert activity[person["id"]] == activity[place["id"]] == england_day(clock["now"]).isoformat()


def test_the_data_protection_officer_previews_and_runs_disposal_from_the_command_line(
    client, tokens, database_url, data_dir, monkeypatch, capsys
):
    child_id = a_child_referred_in_2014(client, tokens)
    for name, value in {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "ENVIRONMENT": "test",
    }.items():
        monkeypatch.setenv(name, value)

    assert retention_command(["--dry-run"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert (preview["dry_run"], [r["subject_id"] for r in preview["records"]]) == (True, [child_id])
    assert child_exists(client, child_id)

    assert retention_command(["--dispose"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == preview["records"]
    assert not child_exists(client, child_id)
    assert [e["subject"] for e in events_of(client, "child.disposed")] == [child_id]


def test_a_child_whose_subject_access_request_is_unanswered_is_kept_until_it_is_answered(
    client, tokens, monkeypatch
):
    """Erasing what a requester asked for, before they have it, is an offence (DPA 2018 s.173)."""
    child_id = referred_child(client, tokens, "signposted")
    request = client.post(
        "/api/v1/subject-access-requests",
        json={
            "subject_type": "child",
            "subject_id": child_id,
            "received_on": "2026-12-01",
            "requester_relationship": "parent_or_carer",
            "identity_verified": True,
        },
        headers=bearer(tokens, IG_OFFICER),
    )
    assert request.status_code == 201, request.text
    as_of(monkeypatch, LONG_AFTER)

    kept = run(client, tokens, dry_run=False)
    assert child_id not in listed(kept)
    assert child_id in listed(kept, "held")
    assert child_exists(client, child_id)

    request_id = uuid.UUID(request.json()["id"])
    with client.app.state.database.sessions() as session, session.begin():
        answered = session.get(SubjectAccessRequest, request_id)
        assert answered is not None
        answered.status = RequestStatus.released
        answered.outcome_reasons = "Released in full to Jordan's mother."
        session.add(
            SubjectAccessPackage(
                request_id=request_id,
                assembled_by="ig.officer@sheffield.gov.example",
                assembled_by_agency="sheffield-council",
                items=[{"label": "Child", "value": "Jordan Example"}],
            )
        )
    assert child_id in listed(run(client, tokens, dry_run=False))
    assert not child_exists(client, child_id)
    # The request shows it was answered; the copy of the child's records made for it is gone.
    with client.app.state.database.sessions() as session:
        request_row = session.get(SubjectAccessRequest, request_id)
        assert request_row is not None
        assert request_row.status is RequestStatus.released
        assert request_row.outcome_reasons is None
        assert session.get(SubjectAccessPackage, request_id) is None
