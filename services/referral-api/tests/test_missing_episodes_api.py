"""Children going missing, being found, and the return-home interview within 72 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referral_scenarios import POLICE, SOCIAL_WORKER, YOUTH_WORKER, child_details
from sqlalchemy import select

from referral_api.missing_episodes.models import MissingEpisode
from referral_api.missing_episodes.service import interview_overdue

POLICE_OFFICER = {**POLICE, "roles": ["practitioner"]}


def a_child(client, tokens):
    return client.post(
        "/api/v1/children", json=child_details(), headers=tokens.headers(**SOCIAL_WORKER)
    ).json()


def report(client, tokens, child_id, at):
    response = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": child_id, "reported_missing_at": at},
        headers=tokens.headers(**POLICE_OFFICER),
    )
    assert response.status_code == 201, response.text
    return response


def test_child_found_friday_evening_has_interview_due_monday_evening(client, tokens):
    child = a_child(client, tokens)
    episode = report(client, tokens, child["id"], "2026-10-09T07:30:00+01:00")
    found = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        json={"found_at": "2026-10-09T18:00:00+01:00", "found_location": "Bus interchange"},
        headers={**tokens.headers(**POLICE_OFFICER), "If-Match": episode.headers["etag"]},
    )
    assert found.status_code == 200, found.text
    assert found.json()["rhi_due_at"] == "2026-10-12T17:00:00Z"  # Monday 18:00 in London

    with client.app.state.database.sessions() as session:
        stored = session.scalars(select(MissingEpisode)).one()
        assert not interview_overdue(stored, datetime(2026, 10, 12, 16, 59, tzinfo=UTC))
        assert interview_overdue(stored, datetime(2026, 10, 12, 17, 1, tzinfo=UTC))
    overdue = client.get(
        "/api/v1/missing-episodes/overdue-interviews", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert [e["id"] for e in overdue["items"]] == [episode.json()["id"]]  # that Monday is long past


def test_a_completed_interview_leaves_the_overdue_list(client, tokens):
    child = a_child(client, tokens)
    recent = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    episode = report(client, tokens, child["id"], recent)
    headers = tokens.headers(**POLICE_OFFICER)
    found_at = (datetime.now(UTC) - timedelta(days=4)).isoformat()
    found = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        json={"found_at": found_at},
        headers={**headers, "If-Match": '"1"'},
    )
    assert found.json()["rhi_overdue"] is True
    done = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/return-home-interview",
        json={"outcome": "completed", "at": datetime.now(UTC).isoformat()},
        headers={**headers, "If-Match": found.headers["etag"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["rhi_overdue"] is False
    overdue = client.get(
        "/api/v1/missing-episodes/overdue-interviews", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert overdue["items"] == []


def test_an_interview_before_the_child_is_found_is_409(client, tokens):
    child = a_child(client, tokens)
    episode = report(client, tokens, child["id"], "2026-10-09T07:30:00Z")
    response = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/return-home-interview",
        json={"outcome": "offered", "at": "2026-10-09T08:00:00Z"},
        headers={**tokens.headers(**POLICE_OFFICER), "If-Match": '"1"'},
    )
    assert response.status_code == 409


def test_found_before_reported_missing_names_the_field(client, tokens):
    child = a_child(client, tokens)
    episode = report(client, tokens, child["id"], "2026-10-09T07:30:00Z")
    response = client.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        json={"found_at": "2026-10-08T07:30:00Z"},
        headers={**tokens.headers(**POLICE_OFFICER), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/found_at"


def test_a_youth_worker_cannot_see_episodes_of_children_not_linked_to_them(client, tokens):
    child = a_child(client, tokens)
    episode = report(client, tokens, child["id"], "2026-10-09T07:30:00Z").json()
    assert (
        client.get(
            f"/api/v1/missing-episodes/{episode['id']}", headers=tokens.headers(**YOUTH_WORKER)
        ).status_code
        == 404
    )
    response = client.post(
        "/api/v1/missing-episodes",
        json={"child_id": child["id"], "reported_missing_at": "2026-10-09T07:30:00Z"},
        headers=tokens.headers(**YOUTH_WORKER),
    )
    assert response.status_code == 422
