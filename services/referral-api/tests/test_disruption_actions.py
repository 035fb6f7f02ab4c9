"""The police disrupting those who exploit a child: a child abduction warning notice to a
person of concern, later a charge; what a commissioned provider and a school may not see;
what the record holds (never a child's name); the vocabulary's rules; the audit trail and
the event the intelligence agencies hear."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from referral_scenarios import (
    HUB_MANAGER,
    POLICE,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    bearer,
    child_details,
)
from sqlalchemy import func, inspect, select

from referral_api.database import AUDIT, EVENTS
from referral_api.disruption.models import DisruptionAction, DisruptionActionChild
from safeguarding_kit.idempotency import HEADER
from safeguarding_kit.openapi_examples import request_body_example

ACTIONS = "/api/v1/disruption/actions"
OFFICER = {**POLICE, "roles": ["practitioner"], "sub": "dc.4471@south-yorkshire-police"}
# A commissioned post-abuse support provider, and a school, each linked to the child.
SAFE_SPACE = {"agency": "safe-space-sheffield", "agency_type": "voluntary", "roles": ["practitioner"]}
SCHOOL_DSL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SAFE_SPACE_ADMIN = {"agency": "safe-space-sheffield", "agency_type": "voluntary", "roles": ["admin"]}


@pytest.fixture
def settings(settings):
    # The partner webhook endpoints registered here are on this machine.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


def register_child(client: Any, tokens: Any, **details: Any) -> str:
    answer = client.post(
        "/api/v1/children", json=child_details(**details), headers=bearer(tokens, SOCIAL_WORKER)
    )
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["id"])


def person_of_concern(client: Any, tokens: Any, child_id: str | None = None) -> str:
    person = client.post(
        "/api/v1/persons-of-concern",
        json={"alias": "Shadz", "approximate_age": 24, "gender": "male", "ethnicity": "white_other"},
        headers=bearer(tokens, OFFICER),
    ).json()
    if child_id is not None:
        client.post(
            f"/api/v1/persons-of-concern/{person['id']}/links",
            json={"child_id": child_id},
            headers=bearer(tokens, OFFICER),
        )
    return str(person["id"])


def place_of_concern(client: Any, tokens: Any) -> str:
    place = client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "hotel", "name": "Station Hotel", "ward_code": "E05010863"},
        headers=bearer(tokens, OFFICER),
    ).json()
    return str(place["id"])


def record(client: Any, tokens: Any, who: dict[str, Any] = OFFICER, **body: Any) -> Any:
    return client.post(ACTIONS, json=body, headers=bearer(tokens, who))


def cawn(person_id: str, child_id: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "child_abduction_warning_notice",
        "person_of_concern_id": person_id,
        "action_date": "2026-08-14",
        "outcome": "issued",
        "reference": "SYP-CAWN-2026-0412",
        "child_ids": [child_id],
        **more,
    }


@pytest.fixture
def story(client, tokens) -> dict[str, str]:
    """A child referred by the school and supported by Safe Space; a person of concern linked."""
    referral = client.post(
        "/api/v1/referrals",
        json={
            "child": child_details(),
            "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
            "concern_types": ["sexual_exploitation"],
            "summary": "Seen getting into cars with older males after school.",
            "lawful_basis": {"basis": "consent"},
            "urgency": "urgent",
        },
        headers=bearer(tokens, SCHOOL),
    )
    assert referral.status_code == 201, referral.text
    child_id = referral.json()["child_id"]
    return {"child_id": child_id, "person_id": person_of_concern(client, tokens, child_id)}


def problem(answer: Any, status: int, slug: str) -> list[str]:
    """The pointers of a problem answer, after checking its status and type."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == f"urn:safeguarding:problem:{slug}"
    return [e["pointer"] for e in answer.json().get("errors") or []]


def test_police_issue_a_child_abduction_warning_notice_and_later_record_a_charge(client, tokens, story):
    notice = record(client, tokens, **cawn(story["person_id"], story["child_id"]))
    assert notice.status_code == 201, notice.text
    body = notice.json()
    assert notice.headers["location"] == f"{ACTIONS}/{body['id']}"
    assert notice.headers["etag"] == '"1"'
    assert body["target_type"] == "person"
    assert body["child_ids"] == [story["child_id"]]
    assert body["outcome_date"] == "2026-08-14"  # issued the day it was served
    assert body["recorded_by_agency"] == "south-yorkshire-police"

    charge = record(
        client,
        tokens,
        kind="charge",
        person_of_concern_id=story["person_id"],
        action_date="2026-09-18",
        outcome="pending",
        offence_group="sexual_offences",
        reference="14/88213/26",
        child_ids=[story["child_id"]],
    )
    assert charge.status_code == 201, charge.text
    assert (charge.json()["outcome"], charge.json()["outcome_date"]) == ("pending", None)

    against_him = client.get(
        ACTIONS, params={"person_of_concern_id": story["person_id"]}, headers=bearer(tokens, OFFICER)
    ).json()["items"]
    assert [a["kind"] for a in against_him] == ["charge", "child_abduction_warning_notice"]  # newest first
    read = client.get(f"{ACTIONS}/{body['id']}", headers=bearer(tokens, SOCIAL_WORKER))
    assert read.status_code == 200
    assert read.json()["child_ids"] == [story["child_id"]]


def test_a_commissioned_provider_and_a_school_see_nothing_of_the_police_intelligence(client, tokens, story):
    notice = record(client, tokens, **cawn(story["person_id"], story["child_id"])).json()
    for outsider in (SAFE_SPACE, SCHOOL_DSL, SCHOOL):
        headers = bearer(tokens, outsider)
        assert client.get(f"{ACTIONS}/{notice['id']}", headers=headers).status_code == 404
        assert problem(client.get(ACTIONS, headers=headers), 403, "forbidden") == []
        refused = client.post(ACTIONS, json=cawn(story["person_id"], story["child_id"]), headers=headers)
        assert refused.status_code == 403
        changed = client.patch(
            f"{ACTIONS}/{notice['id']}", json={"outcome": "withdrawn"}, headers={**headers, "If-Match": '"1"'}
        )
        assert changed.status_code == 404
        assert (
            str(notice["id"])
            not in client.get(f"/api/v1/persons-of-concern/{story['person_id']}", headers=headers).text
        )
    assert count(client, DisruptionAction) == 1


def test_the_record_holds_no_childs_name_only_ids(client, tokens, story):
    record(client, tokens, **cawn(story["person_id"], story["child_id"]))
    for table in (DisruptionAction.__table__, DisruptionActionChild.__table__):
        columns = {c["name"] for c in inspect(client.app.state.database.engine).get_columns(table.name)}
        assert not columns & {"name", "given_name", "family_name", "date_of_birth", "nhs_number", "school"}
        with client.app.state.database.sessions() as session:
            rows = [str(tuple(row)) for row in session.execute(select(table)).all()]
        assert rows
        assert not any("Jordan" in row or "Example" in row or "2011-03-14" in row for row in rows)
    assert set(DisruptionActionChild.__table__.c.keys()) == {"id", "action_id", "child_id"}


def test_other_needs_its_text_and_never_a_childs_name(client, tokens, story):
    other = {
        "kind": "other",
        "place_of_concern_id": place_of_concern(client, tokens),
        "action_date": "2026-10-03",
        "outcome": "issued",
        "child_ids": [story["child_id"]],
    }
    assert problem(record(client, tokens, **other), 422, "invalid-disruption-action") == ["#/other_text"]
    naming = record(client, tokens, **other, other_text="Warned the manager that Jordan was seen there")
    assert problem(naming, 422, "invalid-disruption-action") == ["#/other_text"]
    said = record(client, tokens, **other, other_text="Community protection notice served on the manager")
    assert said.status_code == 201, said.text
    assert said.json()["target_type"] == "place"
    text_for_a_notice = record(
        client, tokens, **cawn(story["person_id"], story["child_id"], other_text="Served")
    )
    assert problem(text_for_a_notice, 422, "invalid-disruption-action") == ["#/other_text"]


def test_a_kind_not_in_the_vocabulary_is_422_naming_the_kind(client, tokens, story):
    answer = record(client, tokens, **cawn(story["person_id"], story["child_id"], kind="kneecapping"))
    assert problem(answer, 422, "unknown-disruption-kind") == ["#/kind"]
    assert "child_abduction_warning_notice" in answer.json()["errors"][0]["detail"]
    assert count(client, DisruptionAction) == 0


def test_a_kind_for_places_used_against_a_person_is_422(client, tokens, story):
    closure = record(
        client, tokens, **cawn(story["person_id"], story["child_id"], kind="closure_order", outcome="granted")
    )
    assert problem(closure, 422, "invalid-disruption-action") == ["#/kind"]
    assert "places" in closure.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("change", "slug", "pointers"),
    [
        ({"outcome": "convicted"}, "invalid-disruption-action", ["#/outcome"]),
        ({"action_date": "2099-01-01", "outcome_date": None}, "invalid-disruption-action", ["#/action_date"]),
        ({"outcome_date": "2026-08-01"}, "invalid-disruption-action", ["#/outcome_date"]),
        ({"offence_group": "drug_offences"}, "invalid-disruption-action", ["#/offence_group"]),
        (
            {"place_of_concern_id": "PLACE"},
            "invalid-disruption-action",
            ["#/person_of_concern_id", "#/place_of_concern_id"],
        ),
        (
            {"person_of_concern_id": str(uuid.UUID(int=7))},
            "unknown-disruption-target",
            ["#/person_of_concern_id"],
        ),
        ({"child_ids": ["CHILD", str(uuid.UUID(int=8))]}, "unknown-disruption-target", ["#/child_ids/1"]),
    ],
    ids=[
        "outcome",
        "future",
        "outcome-before-action",
        "offence-group",
        "two-targets",
        "no-person",
        "no-child",
    ],
)
def test_an_action_that_does_not_fit_is_422_naming_the_field(client, tokens, story, change, slug, pointers):
    body = cawn(story["person_id"], story["child_id"], **change)
    if body.get("place_of_concern_id") == "PLACE":
        body["place_of_concern_id"] = place_of_concern(client, tokens)
    body["child_ids"] = [story["child_id"] if c == "CHILD" else c for c in body["child_ids"]]
    assert problem(record(client, tokens, **body), 422, slug) == pointers
    assert count(client, DisruptionAction) == 0


def test_a_child_the_recording_agency_cannot_see_is_refused_and_the_refusal_audited(
    client, tokens, story, monkeypatch
):
    # An intelligence agency without all_cases sees only the children linked to it.
    from referral_api.children import service as children_service

    monkeypatch.setattr(children_service, "sees_all_cases", lambda principal: False)
    answer = record(client, tokens, **cawn(story["person_id"], story["child_id"]))
    assert problem(answer, 422, "unknown-disruption-target") == ["#/child_ids/0"]
    assert ("link", "child", "denied") in audit_rows(client, story["child_id"])
    assert count(client, DisruptionAction) == 0


def test_every_read_and_write_is_audited_once_for_each_child(client, tokens, story):
    second_child = register_child(client, tokens, given_name="Tia", family_name="Marsh")
    notice = record(
        client,
        tokens,
        **cawn(story["person_id"], story["child_id"], child_ids=[story["child_id"], second_child]),
    )
    action_id = notice.json()["id"]
    client.get(f"{ACTIONS}/{action_id}", headers=bearer(tokens, OFFICER))
    client.get(ACTIONS, headers=bearer(tokens, OFFICER))
    client.patch(
        f"{ACTIONS}/{action_id}",
        json={"outcome": "withdrawn", "outcome_date": "2026-11-02"},
        headers={**bearer(tokens, OFFICER), "If-Match": notice.headers["etag"]},
    )
    for child_id in (story["child_id"], second_child):
        mine = [row for row in audit_rows(client, child_id) if row[1] == "disruption_action"]
        assert mine == [
            ("create", "disruption_action", "allowed"),
            ("read", "disruption_action", "allowed"),
            ("list", "disruption_action", "allowed"),
            ("update", "disruption_action", "allowed"),
        ]
    place_action = record(
        client,
        tokens,
        kind="hotel_guest_information_notice",
        place_of_concern_id=place_of_concern(client, tokens),
        action_date="2026-10-01",
        outcome="issued",
    ).json()
    log = AUDIT.log
    with client.app.state.database.sessions() as session:
        childless = session.execute(
            select(log.c.action, log.c.child_id).where(log.c.resource_id == place_action["id"])
        ).all()
    assert [(row.action, row.child_id) for row in childless] == [("create", None)]


def test_an_outcome_changes_under_if_match_to_one_its_kind_takes(client, tokens, story):
    order = record(
        client,
        tokens,
        kind="sexual_risk_order",
        person_of_concern_id=story["person_id"],
        action_date="2026-09-01",
        outcome="pending",
        child_ids=[story["child_id"]],
    )
    path, etag = f"{ACTIONS}/{order.json()['id']}", order.headers["etag"]
    headers = bearer(tokens, OFFICER)
    assert client.patch(path, json={"outcome": "granted"}, headers=headers).status_code == 428
    assert (
        client.patch(path, json={"outcome": "granted"}, headers={**headers, "If-Match": '"9"'}).status_code
        == 412
    )
    not_its_kind = client.patch(path, json={"outcome": "convicted"}, headers={**headers, "If-Match": etag})
    assert problem(not_its_kind, 422, "invalid-disruption-action") == ["#/outcome"]
    too_early = client.patch(
        path, json={"outcome": "granted", "outcome_date": "2026-08-01"}, headers={**headers, "If-Match": etag}
    )
    assert problem(too_early, 422, "invalid-disruption-action") == ["#/outcome_date"]
    granted = client.patch(
        path, json={"outcome": "granted", "outcome_date": "2026-10-02"}, headers={**headers, "If-Match": etag}
    )
    assert granted.status_code == 200, granted.text
    assert (granted.json()["outcome"], granted.json()["outcome_date"]) == ("granted", "2026-10-02")
    assert granted.headers["etag"] == '"2"'
    assert granted.json()["kind"] == "sexual_risk_order"
    assert granted.json()["updated_at"] is not None


def test_actions_are_listed_by_target_kind_and_date(client, tokens, story):
    place_id = place_of_concern(client, tokens)
    record(client, tokens, **cawn(story["person_id"], story["child_id"]))
    record(
        client,
        tokens,
        kind="arrest",
        person_of_concern_id=story["person_id"],
        action_date="2026-09-10",
        outcome="pending",
    )
    record(
        client,
        tokens,
        kind="closure_notice",
        place_of_concern_id=place_id,
        action_date="2026-10-20",
        outcome="issued",
    )
    headers = bearer(tokens, OFFICER)

    def kinds(**params: Any) -> list[str]:
        answer = client.get(ACTIONS, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [a["kind"] for a in answer.json()["items"]]

    assert kinds(place_of_concern_id=place_id) == ["closure_notice"]
    assert kinds(kind="arrest") == ["arrest"]
    assert kinds(**{"from": "2026-09-01", "to": "2026-09-30"}) == ["arrest"]
    assert kinds(**{"from": "2026-08-14", "to": "2026-09-10"}) == ["arrest", "child_abduction_warning_notice"]
    first = client.get(ACTIONS, params={"limit": 2}, headers=headers).json()
    rest = client.get(ACTIONS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers).json()
    assert len(first["items"]) == 2
    assert [a["kind"] for a in rest["items"]] == ["child_abduction_warning_notice"]
    assert rest["next_cursor"] is None


def test_a_retry_with_the_same_key_records_one_action_and_one_event(client, tokens, story):
    headers = {**bearer(tokens, OFFICER), HEADER: "cawn-2026-0412"}
    body = cawn(story["person_id"], story["child_id"])
    first = client.post(ACTIONS, json=body, headers=headers)
    retry = client.post(ACTIONS, json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert count(client, DisruptionAction) == 1
    assert len(recorded_events(client)) == 1


def test_disruption_recorded_carries_ids_and_kinds_only_and_reaches_intelligence_agencies_only(
    client, tokens, story
):
    endpoints = {}
    for admin in (POLICE_ADMIN, SAFE_SPACE_ADMIN):  # a commissioned provider holds no intelligence
        answer = client.post(
            "/api/v1/webhooks/referral-service/endpoints",
            json={"url": "https://127.0.0.1:9/hooks", "event_types": ["disruption.recorded"]},
            headers=bearer(tokens, admin),
        )
        assert answer.status_code == 201, answer.text
        endpoints[admin["agency"]] = answer.json()["id"]
    notice = record(client, tokens, **cawn(story["person_id"], story["child_id"])).json()

    [event] = recorded_events(client)
    assert event["subject"] == notice["id"]
    assert event["data"] == {
        "action_id": notice["id"],
        "kind": "child_abduction_warning_notice",
        "target_type": "person",
        "target_id": story["person_id"],
    }
    deliveries = EVENTS.deliveries
    with client.app.state.database.sessions() as session:
        subscribers = set(session.scalars(select(deliveries.c.subscriber)))
    assert f"webhook-{endpoints['south-yorkshire-police']}" in subscribers
    assert f"webhook-{endpoints['safe-space-sheffield']}" not in subscribers


def test_anyone_reading_figures_may_read_the_vocabulary(client, tokens):
    answer = client.get("/api/v1/disruption/kinds", headers=bearer(tokens, SAFE_SPACE))
    assert answer.status_code == 200
    assert "child_abduction_warning_notice" in [k["slug"] for k in answer.json()["kinds"]]


def test_merging_two_records_of_a_child_linked_to_one_action_leaves_one_link(client, tokens, story):
    duplicate = register_child(client, tokens, nhs_number="9434765919")  # the same child, registered twice
    notice = record(
        client,
        tokens,
        **cawn(story["person_id"], story["child_id"], child_ids=[story["child_id"], duplicate]),
    ).json()
    keep = client.get(f"/api/v1/children/{story['child_id']}", headers=bearer(tokens, SOCIAL_WORKER))
    merged = client.post(
        f"/api/v1/children/{story['child_id']}/merge",
        json={"duplicate_id": duplicate, "reason": "Same child, confirmed with GP"},
        headers={**bearer(tokens, HUB_MANAGER), "If-Match": keep.headers["etag"]},
    )
    assert merged.status_code == 200, merged.text
    read = client.get(f"{ACTIONS}/{notice['id']}", headers=bearer(tokens, OFFICER))
    assert read.json()["child_ids"] == [story["child_id"]]


# --- helpers reading the database -------------------------------------------------------


def count(client: Any, model: Any) -> int:
    with client.app.state.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def audit_rows(client: Any, child_id: str) -> list[tuple[str, str, str]]:
    log = AUDIT.log
    with client.app.state.database.sessions() as session:
        rows = session.execute(
            select(log.c.action, log.c.resource_type, log.c.outcome)
            .where(log.c.child_id == uuid.UUID(child_id))
            .order_by(log.c.seq)
        ).all()
    return [(row.action, row.resource_type, row.outcome) for row in rows]


def recorded_events(client: Any) -> list[dict[str, Any]]:
    events = EVENTS.events
    with client.app.state.database.sessions() as session:
        rows = session.execute(
            select(events.c.subject, events.c.data)
            .where(events.c.type == "disruption.recorded")
            .order_by(events.c.seq)
        ).all()
    return [{"subject": row.subject, "data": row.data} for row in rows]


def test_the_specs_example_is_accepted_with_ids_from_the_calls_it_names(client, tokens, story):
    example = request_body_example(client.app.openapi(), "post", ACTIONS)
    answer = record(
        client,
        tokens,
        **{**example, "person_of_concern_id": story["person_id"], "child_ids": [story["child_id"]]},
    )
    assert answer.status_code == 201, answer.text


def test_an_outsider_asking_for_intelligence_by_id_gets_404_and_the_attempt_is_audited(client, tokens, story):
    notice = record(client, tokens, **cawn(story["person_id"], story["child_id"])).json()
    place_id = place_of_concern(client, tokens)
    headers = bearer(tokens, SAFE_SPACE)
    asked = [
        client.get(f"{ACTIONS}/{notice['id']}", headers=headers),
        client.patch(
            f"{ACTIONS}/{notice['id']}", json={"outcome": "withdrawn"}, headers={**headers, "If-Match": '"1"'}
        ),
        client.get(f"/api/v1/persons-of-concern/{story['person_id']}", headers=headers),
        client.get(f"/api/v1/places-of-concern/{place_id}", headers=headers),
    ]
    assert [answer.status_code for answer in asked] == [404, 404, 404, 404]
    with client.app.state.database.sessions() as session:
        refusals = session.execute(
            select(AUDIT.log.c.action, AUDIT.log.c.resource_type, AUDIT.log.c.resource_id)
            .where(AUDIT.log.c.actor_agency == SAFE_SPACE["agency"], AUDIT.log.c.outcome == "denied")
            .order_by(AUDIT.log.c.seq)
        ).all()
    assert [tuple(row) for row in refusals] == [
        ("read", "disruption_action", notice["id"]),
        ("update", "disruption_action", notice["id"]),
        ("read", "person_of_concern", story["person_id"]),
        ("read", "place_of_concern", place_id),
    ]
