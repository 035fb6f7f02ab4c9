"""A child's chronology: one read, newest first, of everything that happened to the child
across the platform, kept from the events the services exchange (never asked of them at
read time), for those who may see the child, each read audited."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from referral_scenarios import (
    HUB_MANAGER,
    SCHOOL,
    bearer,
    child_details,
    screen_and_decide,
    submit,
)
from retention_scenarios import LONG_AFTER, as_of, count, run
from support_scenarios import HUB_WORKER, KEYWORKER, deliver, offered, risk_assessed, start
from test_disruption_actions import OFFICER, cawn, person_of_concern, record

from referral_api.chronology.models import ChronologyEntry
from referral_api.chronology.projection import on_its_day
from referral_api.database import AUDIT

POLICE_OFFICER = {**OFFICER}
FAMILY_NAME = "Okonkwo-Chronology"
ADA = child_details(given_name="Ada", family_name=FAMILY_NAME, date_of_birth="2012-03-04")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def event(child_id: str, type_: str, source: str, data: dict[str, Any], time: datetime) -> dict[str, Any]:
    """Another service's event about the child, as its relay delivers it."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "subject": child_id,
        "time": iso(time),
        "datacontenttype": "application/json",
        "data": {"child_id": child_id, **data},
    }


def mace_decision(child_id: str, time: datetime) -> dict[str, Any]:
    return event(
        child_id,
        "meeting.decision_recorded",
        "meetings-api",
        {
            "decision_id": str(uuid.uuid4()),
            "agenda_item_id": str(uuid.uuid4()),
            "occurrence_id": str(uuid.uuid4()),
            "series_id": str(uuid.uuid4()),
            "meeting_kind": "MACE",
            "meeting_starts_at": iso(time),
        },
        time,
    )


def mace_action(child_id: str, time: datetime, action_id: str) -> dict[str, Any]:
    return event(
        child_id,
        "meeting.action_agreed",
        "meetings-api",
        {
            "action_id": action_id,
            "occurrence_id": str(uuid.uuid4()),
            "series_id": str(uuid.uuid4()),
            "meeting_kind": "MACE",
            "owner_agency": "sheffield-schools",
            "due_date": (time + timedelta(days=14)).date().isoformat(),
        },
        time,
    )


def chronology(client: Any, tokens: Any, child_id: str, who: dict[str, Any], **params: Any) -> Any:
    return client.get(f"/api/v1/children/{child_id}/chronology", params=params, headers=bearer(tokens, who))


def kinds(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [entry["kind"] for entry in answer.json()["items"]]


@pytest.fixture
def journey(client, tokens) -> dict[str, Any]:
    """A school's referral, screened and allocated; assessed high; discussed at MACE with an
    action; missing (reported a day late) and back with a return-home interview; support
    offered and started; an action completed; reassessed medium."""
    referral = submit(client, tokens, SCHOOL, child=ADA)
    child_id = referral["child_id"]
    screen_and_decide(client, tokens, referral, "allocated")
    assessed = risk_assessed(child_id, "high", iso(datetime.now(UTC)))
    assert deliver(client, assessed) == 204
    changed = event(
        child_id, "risk.level_changed", "risk-api", {"from": None, "to": "high"}, datetime.now(UTC)
    )
    assert deliver(client, changed) == 204
    action_id = str(uuid.uuid4())
    assert deliver(client, mace_decision(child_id, datetime.now(UTC))) == 204
    assert deliver(client, mace_action(child_id, datetime.now(UTC), action_id)) == 204

    missing_at = datetime.now(UTC)  # reported a moment after it happened
    episode = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": child_id, "reported_missing_at": iso(missing_at)},
        headers=bearer(tokens, POLICE_OFFICER),
    )
    assert episode.status_code == 201, episode.text
    found = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        json={"found_at": iso(datetime.now(UTC)), "found_location": "Bus interchange"},
        headers={**bearer(tokens, POLICE_OFFICER), "If-Match": found_etag(episode)},
    )
    assert found.status_code == 200, found.text
    interview = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/return-home-interview",
        json={"outcome": "completed", "at": iso(datetime.now(UTC)), "notes": "Spoke about the older males."},
        headers={**bearer(tokens, HUB_WORKER), "If-Match": found.headers["etag"]},
    )
    assert interview.status_code == 200, interview.text

    support = offered(client, tokens, child_id)
    started = start(client, tokens, support, iso(datetime.now(UTC)))
    assert started.status_code == 200, started.text
    closed = event(
        child_id,
        "meeting.action_closed",
        "meetings-api",
        {"action_id": action_id, "owner_agency": "sheffield-schools", "status": "completed"},
        datetime.now(UTC),
    )
    assert deliver(client, closed) == 204
    assert deliver(client, risk_assessed(child_id, "medium", iso(datetime.now(UTC)))) == 204
    return {"child_id": child_id, "referral": referral, "support": started.json(), "missing_at": missing_at}


def found_etag(episode: Any) -> str:
    return str(episode.headers["etag"])


def test_the_hub_reads_every_step_newest_first(client, tokens, journey):
    answer = chronology(client, tokens, journey["child_id"], HUB_WORKER)
    assert (
        kinds(answer)
        == [
            "risk_assessed",  # reassessed medium
            "meeting_action_closed",
            "support_started",
            "support_offered",
            "return_home_interview",
            "missing_found",
            "missing_reported",
            "meeting_action_agreed",
            "meeting_decision",
            "risk_level_changed",
            "risk_assessed",
            "referral_status_changed",  # screening -> allocated
            "referral_status_changed",  # received -> screening
            "referral_received",
        ][: len(answer.json()["items"])]
    )
    items = answer.json()["items"]
    assert len(items) == 14
    moments = [entry["occurred_at"] for entry in items]
    assert moments == sorted(moments, reverse=True)
    by_kind = {entry["kind"]: entry for entry in items}
    assert by_kind["referral_received"]["summary"].startswith("Referral received from a education agency")
    assert by_kind["referral_received"]["record"]["href"] == f"/api/v1/referrals/{journey['referral']['id']}"
    assert by_kind["support_started"]["record"] == {
        "type": "support",
        "id": journey["support"]["id"],
        "href": f"/api/v1/support/{journey['support']['id']}",
    }
    assert by_kind["risk_level_changed"]["summary"] == "Risk level set to high"
    assert by_kind["return_home_interview"]["details"]["outcome"] == "completed"
    assert by_kind["meeting_decision"]["source"] == "meetings-api"
    # A step reported late is placed when it happened.
    reported = datetime.fromisoformat(by_kind["missing_reported"]["occurred_at"])
    assert reported == journey["missing_at"].replace(microsecond=reported.microsecond)
    assert reported < datetime.fromisoformat(by_kind["missing_reported"]["recorded_at"])


def test_no_entry_names_the_child_or_carries_free_text(client, tokens, journey):
    text = json.dumps(chronology(client, tokens, journey["child_id"], HUB_WORKER).json())
    for never in (FAMILY_NAME, "Ada", "older males", "Bus interchange"):
        assert never not in text


def test_pages_follow_one_another_without_gaps_or_repeats(client, tokens, journey):
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = chronology(client, tokens, journey["child_id"], HUB_WORKER, **params).json()
        seen += [entry["id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    whole = chronology(client, tokens, journey["child_id"], HUB_WORKER, limit=100).json()["items"]
    assert seen == [entry["id"] for entry in whole]


def test_an_agency_not_linked_to_the_child_gets_404_and_the_refusal_is_audited(client, tokens, journey):
    stranger = {"agency": "sheffield-young-carers", "agency_type": "voluntary", "roles": ["practitioner"]}
    answer = chronology(client, tokens, journey["child_id"], stranger)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    with client.app.state.database.sessions() as session:
        outcomes = {
            (row.actor_agency, row.outcome)
            for row in session.execute(
                AUDIT.log.select().where(AUDIT.log.c.child_id == uuid.UUID(journey["child_id"]))
            )
        }
    assert ("sheffield-young-carers", "denied") in outcomes


def test_each_read_is_audited_as_a_read_of_the_child(client, tokens, journey):
    chronology(client, tokens, journey["child_id"], HUB_WORKER)
    with client.app.state.database.sessions() as session:
        reads = session.execute(
            AUDIT.log.select().where(
                AUDIT.log.c.child_id == uuid.UUID(journey["child_id"]),
                AUDIT.log.c.resource_type == "chronology",
                AUDIT.log.c.action == "read",
            )
        ).all()
    assert [row.actor_agency for row in reads] == [HUB_WORKER["agency"]]


def test_the_provider_sees_the_support_but_never_the_police_intelligence(client, tokens, journey):
    person_id = person_of_concern(client, tokens, journey["child_id"])
    today = datetime.now(UTC).date().isoformat()
    notice = record(client, tokens, **cawn(person_id, journey["child_id"], action_date=today))
    assert notice.status_code == 201, notice.text

    police = kinds(chronology(client, tokens, journey["child_id"], POLICE_OFFICER))
    assert police[0] == "disruption_recorded"
    provider = kinds(chronology(client, tokens, journey["child_id"], KEYWORKER))
    assert "support_started" in provider
    assert "disruption_recorded" not in provider
    # The MASH works intelligence under the demonstration agreement; the school does not.
    assert "disruption_recorded" in kinds(chronology(client, tokens, journey["child_id"], HUB_WORKER))
    school = {**SCHOOL, "roles": ["practitioner"]}
    assert "disruption_recorded" not in kinds(chronology(client, tokens, journey["child_id"], school))


def test_a_redelivered_event_is_kept_once(client, tokens, journey):
    repeated = risk_assessed(journey["child_id"], "low", iso(datetime.now(UTC)))
    assert deliver(client, repeated) == 204
    assert deliver(client, repeated) == 204
    with client.app.state.database.sessions() as session:
        kept = session.query(ChronologyEntry).filter_by(event_id=uuid.UUID(repeated["id"])).count()
    assert kept == 1


def test_an_event_about_a_merged_record_reaches_the_surviving_one(client, tokens, journey):
    duplicate = submit(
        client,
        tokens,
        SCHOOL,
        child={**ADA, "date_of_birth": "2012-03-05"},
    )
    survivor = client.get(f"/api/v1/children/{journey['child_id']}", headers=bearer(tokens, HUB_MANAGER))
    merged = client.post(
        f"/api/v1/children/{journey['child_id']}/merge",
        json={"duplicate_id": duplicate["child_id"], "reason": "Same child, date of birth mistyped."},
        headers={**bearer(tokens, HUB_MANAGER), "If-Match": survivor.headers["etag"]},
    )
    assert merged.status_code == 200, merged.text
    late = risk_assessed(duplicate["child_id"], "low", iso(datetime.now(UTC)))
    assert deliver(client, late) == 204
    items = chronology(client, tokens, journey["child_id"], HUB_WORKER, limit=100).json()["items"]
    assert late["id"] in {entry["event_id"] for entry in items}
    # The duplicate's own referral came across with the merge.
    assert sum(entry["kind"] == "referral_received" for entry in items) == 2


def test_an_event_about_a_child_not_held_here_is_passed_over(client):
    assert deliver(client, risk_assessed(str(uuid.uuid4()), "high", iso(datetime.now(UTC)))) == 204


@pytest.mark.parametrize(
    ("spoil", "status"),
    [
        pytest.param(lambda e: e["data"].pop("decision_id"), 422, id="an-id-missing"),
        pytest.param(
            lambda e: e["data"].update(meeting_kind="Ada said she is scared of " * 10), 422, id="free-text"
        ),
        # Not a CloudEvents time at all: refused before its data is read.
        pytest.param(lambda e: e.update(time="2026-12-01T10:00:00"), 400, id="a-time-without-offset"),
    ],
)
def test_an_event_not_what_its_type_carries_is_refused_and_nothing_kept(
    client, tokens, journey, spoil, status
):
    spoiled = mace_decision(journey["child_id"], datetime.now(UTC))
    spoil(spoiled)
    before = kinds(chronology(client, tokens, journey["child_id"], HUB_WORKER, limit=100))
    assert deliver(client, spoiled) == status
    assert kinds(chronology(client, tokens, journey["child_id"], HUB_WORKER, limit=100)) == before


def test_a_step_known_only_by_its_day_sorts_where_it_was_recorded_if_recorded_that_day():
    recorded = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)
    assert on_its_day(recorded.date(), recorded) == recorded
    earlier = on_its_day(recorded.date() - timedelta(days=3), recorded)
    assert earlier.isoformat() == "2026-12-03T00:00:00+00:00"


def test_disposing_of_the_child_takes_their_chronology_and_a_late_event_keeps_nothing(
    client, tokens, journey, monkeypatch
):
    person_id = person_of_concern(client, tokens, journey["child_id"])
    assert record(client, tokens, **cawn(person_id, journey["child_id"])).status_code == 201
    as_of(monkeypatch, LONG_AFTER)
    run(client, tokens, dry_run=False)
    assert count(client, ChronologyEntry.__table__) == 0  # the child's steps, the intelligence too

    assert deliver(client, risk_assessed(journey["child_id"], "low", iso(datetime.now(UTC)))) == 204
    assert count(client, ChronologyEntry.__table__) == 0


def test_an_action_opened_again_after_it_was_completed_says_so(client, tokens, journey):
    action_id = str(uuid.uuid4())
    reopened = event(
        journey["child_id"],
        "meeting.action_reopened",
        "meetings-api",
        {"action_id": action_id, "owner_agency": "sheffield-schools"},
        datetime.now(UTC),
    )
    assert deliver(client, reopened) == 204
    newest = chronology(client, tokens, journey["child_id"], HUB_WORKER).json()["items"][0]
    assert newest["kind"] == "meeting_action_reopened"
    assert newest["summary"] == "Action open again (sheffield-schools)"
    assert newest["record"] == {"type": "action", "id": action_id, "href": None}
