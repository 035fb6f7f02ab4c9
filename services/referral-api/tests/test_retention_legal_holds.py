"""Legal holds placed and released by the partnership's information governance auditors
(role `auditor` at an agency granted `audits`): what a hold keeps, how it is retried and
released, that every hold is audited and announced to the other services, and that no
one else may place, read or release one, or run a disposal. The retention schedule in
force is for every partner to read."""

from __future__ import annotations

import uuid

import pytest
from referral_scenarios import AUDITOR, PROBLEM, SOCIAL_WORKER, bearer, child_details
from retention_scenarios import (
    HOLDS,
    IG_OFFICER,
    LONG_AFTER,
    POLICE_OFFICER,
    RUNS,
    YOUTH_AUDITOR,
    as_of,
    count,
    events_of,
    place_hold,
    referred_child,
    release,
    run,
)

from referral_api.retention.models import LegalHold

HUB_MANAGER_AT_POLICE = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["manager"]}


def test_an_auditor_places_a_hold_on_a_child_reads_it_and_releases_it(client, tokens):
    child_id = referred_child(client, tokens, "signposted")
    placed = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert placed.headers["location"] == f"{HOLDS}/{hold['id']}"
    assert placed.headers["etag"] == '"1"'
    assert (hold["subject_type"], hold["subject_id"], hold["record_class"]) == ("child", child_id, None)
    assert (hold["placed_by"], hold["placed_by_agency"]) == (IG_OFFICER["sub"], "sheffield-council")
    assert hold["active"] is True

    read = client.get(placed.headers["location"], headers=bearer(tokens, IG_OFFICER))
    assert read.status_code == 200
    assert read.json() == hold
    active = client.get(HOLDS, params={"active": "true"}, headers=bearer(tokens, IG_OFFICER)).json()
    assert [h["id"] for h in active["items"]] == [hold["id"]]

    released = release(client, tokens, placed)
    assert released.status_code == 200, released.text
    assert released.headers["etag"] == '"2"'
    assert released.json()["active"] is False
    assert released.json()["released_by"] == IG_OFFICER["sub"]
    assert released.json()["release_reason"] == "The inquiry reported and returned the records."
    assert (
        client.get(HOLDS, params={"active": "true"}, headers=bearer(tokens, IG_OFFICER)).json()["items"] == []
    )
    ended = client.get(HOLDS, params={"active": "false"}, headers=bearer(tokens, IG_OFFICER)).json()
    assert [h["id"] for h in ended["items"]] == [hold["id"]]


def test_holds_are_listed_newest_first_a_page_at_a_time_and_filtered(client, tokens):
    child_id = referred_child(client, tokens)
    first = place_hold(client, tokens, subject_type="child", subject_id=child_id).json()
    second = place_hold(client, tokens, subject_type="record_class", record_class="meeting_minutes").json()
    page = client.get(HOLDS, params={"limit": 1}, headers=bearer(tokens, IG_OFFICER)).json()
    assert [h["id"] for h in page["items"]] == [second["id"]]
    rest = client.get(
        HOLDS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=bearer(tokens, IG_OFFICER)
    ).json()
    assert [h["id"] for h in rest["items"]] == [first["id"]]
    assert rest["next_cursor"] is None
    on_child = client.get(HOLDS, params={"subject_id": child_id}, headers=bearer(tokens, IG_OFFICER)).json()
    assert [h["id"] for h in on_child["items"]] == [first["id"]]
    on_classes = client.get(
        HOLDS, params={"subject_type": "record_class"}, headers=bearer(tokens, IG_OFFICER)
    ).json()
    assert [h["id"] for h in on_classes["items"]] == [second["id"]]


def test_placing_and_releasing_a_hold_on_a_child_shows_in_the_childs_access_log(client, tokens):
    child_id = referred_child(client, tokens)
    placed = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    release(client, tokens, placed)
    log = client.get(f"/api/v1/children/{child_id}/access-log", headers=bearer(tokens, AUDITOR)).json()[
        "items"
    ]
    holds = [
        (e["actor_sub"], e["action"], e["resource_id"]) for e in log if e["resource_type"] == "legal_hold"
    ]
    hold_id = placed.json()["id"]
    assert (IG_OFFICER["sub"], "place_hold", hold_id) in holds
    assert (IG_OFFICER["sub"], "release_hold", hold_id) in holds
    assert all("IICSA-2027-014" in e["detail"] for e in log if e["action"] in ("place_hold", "release_hold"))


def test_every_hold_placed_or_released_is_announced_with_ids_and_classes_only(client, tokens):
    child_id = referred_child(client, tokens)
    on_child = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    on_class = place_hold(client, tokens, subject_type="record_class", record_class="meeting_minutes")
    release(client, tokens, on_class)

    placed = events_of(client, "retention.hold_placed")
    assert placed == [
        {
            "subject": child_id,
            "data": {
                "hold_id": on_child.json()["id"],
                "subject_type": "child",
                "subject_id": child_id,
                "record_class": None,
            },
        },
        {
            "subject": on_class.json()["id"],
            "data": {
                "hold_id": on_class.json()["id"],
                "subject_type": "record_class",
                "subject_id": None,
                "record_class": "meeting_minutes",
            },
        },
    ]
    [released] = events_of(client, "retention.hold_released")
    assert released == placed[1]  # in the hold's own lane, after its placing


def test_a_hold_on_a_child_or_person_that_does_not_exist_is_422_naming_the_id(client, tokens):
    for subject_type in ("child", "person_of_concern", "place_of_concern"):
        refused = place_hold(client, tokens, subject_type=subject_type, subject_id=str(uuid.uuid4()))
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["type"] == "urn:safeguarding:problem:unknown-hold-subject"
        assert [e["pointer"] for e in refused.json()["errors"]] == ["#/subject_id"]
    assert count(client, LegalHold) == 0


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"subject_type": "record_class"}, ["#/record_class"]),
        (
            {
                "subject_type": "record_class",
                "record_class": "missing_episode",
                "subject_id": str(uuid.uuid4()),
            },
            ["#/subject_id"],
        ),
        ({"subject_type": "child"}, ["#/subject_id"]),
        (
            {"subject_type": "child", "subject_id": str(uuid.uuid4()), "record_class": "missing_episode"},
            ["#/record_class"],
        ),
        ({"subject_type": "record_class", "record_class": "shopping_lists"}, ["#/record_class"]),
    ],
    ids=["class-without-class", "class-with-id", "child-without-id", "child-with-class", "unknown-class"],
)
def test_a_hold_names_either_one_record_or_one_class(client, tokens, body, pointers):
    refused = place_hold(client, tokens, **body)
    assert refused.status_code == 422, refused.text
    assert [e["pointer"] for e in refused.json()["errors"]] == pointers


def test_a_release_needs_the_current_etag_and_happens_once(client, tokens):
    placed = place_hold(client, tokens, subject_type="record_class", record_class="missing_episode")
    path = f"{HOLDS}/{placed.json()['id']}/release"
    body = {"reason": "The inquiry reported and returned the records."}
    without = client.post(path, json=body, headers=bearer(tokens, IG_OFFICER))
    assert without.status_code == 428
    assert release(client, tokens, placed).status_code == 200
    stale = release(client, tokens, placed)
    assert stale.status_code == 412
    current = client.get(f"{HOLDS}/{placed.json()['id']}", headers=bearer(tokens, IG_OFFICER))
    again = client.post(
        path, json=body, headers={**bearer(tokens, IG_OFFICER), "If-Match": current.headers["etag"]}
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:safeguarding:problem:hold-already-released"
    assert len(events_of(client, "retention.hold_released")) == 1


def test_an_unknown_hold_is_404(client, tokens):
    missing = client.get(f"{HOLDS}/{uuid.uuid4()}", headers=bearer(tokens, IG_OFFICER))
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:safeguarding:problem:legal-hold-not-found"


@pytest.mark.parametrize(
    "who",
    [YOUTH_AUDITOR, SOCIAL_WORKER, HUB_MANAGER_AT_POLICE, POLICE_OFFICER],
    ids=["auditor-without-audits", "hub-social-worker", "hub-manager", "police-officer"],
)
def test_only_auditors_of_an_audits_agency_govern_retention(client, tokens, who):
    child_id = referred_child(client, tokens)
    placed = place_hold(client, tokens, subject_type="child", subject_id=child_id)
    hold_path = f"{HOLDS}/{placed.json()['id']}"
    headers = bearer(tokens, who)
    attempts = [
        client.post(
            HOLDS,
            json={
                "subject_type": "child",
                "subject_id": child_id,
                "reason": "Keep it for me, please.",
                "reference": "x",
            },
            headers=headers,
        ),
        client.get(HOLDS, headers=headers),
        client.get(hold_path, headers=headers),
        client.post(
            f"{hold_path}/release",
            json={"reason": "No longer needed by anyone."},
            headers={**headers, "If-Match": placed.headers["etag"]},
        ),
        client.post(RUNS, json={"dry_run": True}, headers=headers),
        client.post(RUNS, json={"dry_run": False}, headers=headers),
        client.get("/api/v1/retention/disposals", headers=headers),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert all(a.headers["content-type"] == PROBLEM for a in attempts)
    assert count(client, LegalHold) == 1
    assert client.get(hold_path, headers=bearer(tokens, IG_OFFICER)).json()["active"] is True


def test_every_partner_reads_the_retention_schedule_in_force(client, tokens):
    for who in (
        SOCIAL_WORKER,
        YOUTH_AUDITOR,
        {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]},
    ):
        answer = client.get("/api/v1/retention/schedule", headers=bearer(tokens, who))
        assert answer.status_code == 200, answer.text
    schedule = answer.json()
    assert schedule["version"] == "2026-12-06"
    rules = {c["record_class"]: c for c in schedule["record_classes"]}
    assert len(rules) == 9
    assert rules["exploitation_case_record"]["rule"] == "75 years after the last activity"
    assert rules["looked_after_case_record"]["keep"] == {
        "years_after_last_activity": None,
        "until_birthday": 75,
        "kept": False,
    }
    assert rules["audit_record"]["rule"] == "kept"
    assert rules["person_of_concern"]["authority"].startswith("College of Policing")
    assert client.get("/api/v1/retention/schedule").status_code == 401


def test_auditors_list_the_disposal_records_newest_first_filtered_by_record(client, tokens, monkeypatch):
    first = referred_child(client, tokens, "signposted", given_name="Ava")
    as_of(monkeypatch, LONG_AFTER)
    run(client, tokens, dry_run=False)
    second = client.post(
        "/api/v1/children", json=child_details(given_name="Ben"), headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["id"]
    run(client, tokens, dry_run=False)

    listed = client.get("/api/v1/retention/disposals", headers=bearer(tokens, IG_OFFICER)).json()
    assert [(d["subject_id"], d["record_class"]) for d in listed["items"]] == [
        (second, "no_further_action_referral"),
        (first, "no_further_action_referral"),
    ]
    assert set(listed["items"][0]) == {
        "id",
        "record_class",
        "rule",
        "subject_type",
        "subject_id",
        "cause",
        "schedule_version",
        "disposed_at",
    }
    one = client.get(
        "/api/v1/retention/disposals", params={"subject_id": first}, headers=bearer(tokens, IG_OFFICER)
    ).json()
    assert [d["subject_id"] for d in one["items"]] == [first]
    by_class = client.get(
        "/api/v1/retention/disposals",
        params={"record_class": "missing_episode"},
        headers=bearer(tokens, IG_OFFICER),
    ).json()
    assert by_class["items"] == []
