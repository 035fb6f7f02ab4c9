"""The hub moving referrals through screening, decision and closure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from referral_scenarios import (
    DECISION_DETAILS,
    HUB_MANAGER,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    bearer,
    move,
    screen_and_decide,
    submit,
)
from sqlalchemy import create_engine, update

from referral_api.referrals.models import Referral, ReferralStatus
from referral_api.referrals.workflow import ALLOWED_TRANSITIONS, can_transition
from safeguarding_kit.db import normalise_url


def step(client, tokens, referral_id, who, body, etag):
    headers = tokens.headers(**who)
    if etag is not None:
        headers["If-Match"] = etag
    return client.post(f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=headers)


def test_the_workflow_allows_only_the_documented_steps():
    assert can_transition(ReferralStatus.received, ReferralStatus.screening)
    assert not can_transition(ReferralStatus.received, ReferralStatus.allocated)
    assert not can_transition(ReferralStatus.closed, ReferralStatus.screening)
    assert all(
        can_transition(ReferralStatus.screening, s)
        for s in (ReferralStatus.allocated, ReferralStatus.signposted, ReferralStatus.no_further_action)
    )
    assert ALLOWED_TRANSITIONS[ReferralStatus.closed] == frozenset()


def test_hub_screens_allocates_and_closes_with_who_when_and_why(client, tokens):
    referral = submit(client, tokens)
    screened = step(
        client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening", "reason": "Duty screening"}, '"1"'
    )
    assert screened.status_code == 200, screened.text
    allocated = step(
        client,
        tokens,
        referral["id"],
        HUB_MANAGER,
        {
            "to": "allocated",
            "reason": "Meets threshold",
            "allocated_team": "Exploitation Team North",
            "allocated_worker": "worker-4411",
        },
        screened.headers["etag"],
    )
    assert allocated.status_code == 200
    assert allocated.json()["allocation"] == {
        "team": "Exploitation Team North",
        "worker": "worker-4411",
        "agency": "sheffield-social-care",
    }
    assert allocated.json()["decided_at"] is not None
    closed = step(
        client,
        tokens,
        referral["id"],
        HUB_MANAGER,
        {"to": "closed", "reason": "Plan complete"},
        allocated.headers["etag"],
    )
    assert closed.json()["status"] == "closed"

    history = client.get(
        f"/api/v1/referrals/{referral['id']}/history", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert history["next_cursor"] is None  # a referral's few steps are one page
    history = history["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "received"),
        ("received", "screening"),
        ("screening", "allocated"),
        ("allocated", "closed"),
    ]
    assert history[2]["actor_sub"] == "manager@hub"
    assert history[3]["reason"] == "Plan complete"


def test_signposting_to_a_community_youth_team_needs_where_to(client, tokens):
    referral = submit(client, tokens)
    screened = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, '"1"')
    missing = step(
        client, tokens, referral["id"], HUB_MANAGER, {"to": "signposted"}, screened.headers["etag"]
    )
    assert missing.status_code == 422
    done = step(
        client,
        tokens,
        referral["id"],
        HUB_MANAGER,
        {"to": "signposted", "signposted_to": "community-youth-team"},
        screened.headers["etag"],
    )
    assert done.json()["signposted_to"] == "community-youth-team"


def test_signposting_to_a_service_outside_the_agreements_closed_list_is_422_naming_the_known_ones(
    client, tokens
):
    referral = submit(client, tokens)
    screened = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, '"1"')
    for where in ("Community Youth Team", "the-youth-club-down-the-road"):
        refused = step(
            client,
            tokens,
            referral["id"],
            HUB_MANAGER,
            {"to": "signposted", "signposted_to": where},
            screened.headers["etag"],
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == PROBLEM
        (error,) = refused.json()["errors"]
        assert error["pointer"] == "#/signposted_to"
    assert "community-youth-team" in error["detail"]
    assert "post-abuse-support" in error["detail"]
    after = client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(tokens, SOCIAL_WORKER)).json()
    assert (after["status"], after["signposted_to"]) == ("screening", None)


def test_a_referral_signposted_before_the_closed_list_still_reads_with_its_free_text(
    client, tokens, database_url
):
    referral = submit(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    move(client, tokens, screened, HUB_MANAGER, to="signposted", signposted_to="community-youth-team")
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:  # as the migration left a row of the free-text days
        conn.execute(
            update(Referral)
            .where(Referral.id == uuid.UUID(referral["id"]))
            .values(signposted_to="Youth club")
        )
    engine.dispose()
    read = client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(tokens, SOCIAL_WORKER))
    assert read.status_code == 200
    assert read.json()["signposted_to"] == "Youth club"


def test_an_impossible_step_is_409_and_changes_nothing(client, tokens):
    referral = submit(client, tokens)
    response = step(
        client, tokens, referral["id"], HUB_MANAGER, {"to": "allocated", "allocated_team": "Team A"}, '"1"'
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    after = client.get(f"/api/v1/referrals/{referral['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert (after["status"], after["version"]) == ("received", 1)


def as_stored(client, tokens, referral_id):
    """The referral and its workflow history as a case worker reads them, with the ETag."""
    headers = bearer(tokens, SOCIAL_WORKER)
    read = client.get(f"/api/v1/referrals/{referral_id}", headers=headers)
    history = client.get(f"/api/v1/referrals/{referral_id}/history", headers=headers).json()["items"]
    return read.headers["etag"], read.json(), history


def test_an_update_without_if_match_is_428_and_changes_nothing(client, tokens):
    referral = submit(client, tokens)
    before = as_stored(client, tokens, referral["id"])
    response = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, None)
    assert response.status_code == 428
    assert response.headers["content-type"] == PROBLEM
    after = as_stored(client, tokens, referral["id"])
    assert after == before
    etag, body, history = after
    assert (etag, body["version"], body["status"]) == ('"1"', 1, "received")
    assert [h["to_status"] for h in history] == ["received"]


def test_two_workers_updating_from_the_same_version_one_gets_412(client, tokens):
    referral = submit(client, tokens)
    screened = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, '"1"')
    seen_by_both = screened.headers["etag"]
    first = step(
        client,
        tokens,
        referral["id"],
        HUB_MANAGER,
        {"to": "allocated", "allocated_team": "Team A"},
        seen_by_both,
    )
    second = step(
        client,
        tokens,
        referral["id"],
        HUB_MANAGER,
        {"to": "signposted", "signposted_to": "community-youth-team"},
        seen_by_both,
    )
    assert first.status_code == 200
    assert second.status_code == 412
    assert second.headers["content-type"] == PROBLEM
    etag, after, history = as_stored(client, tokens, referral["id"])
    assert (etag, after) == (first.headers["etag"], first.json())  # the first write, untouched
    assert (after["status"], after["version"], after["signposted_to"]) == ("allocated", 3, None)
    assert after["allocation"]["team"] == "Team A"
    assert [h["to_status"] for h in history] == ["received", "screening", "allocated"]


def test_a_referrer_cannot_move_a_referral(client, tokens):
    referral = submit(client, tokens)
    response = step(client, tokens, referral["id"], SCHOOL, {"to": "screening"}, '"1"')
    assert response.status_code == 403


def test_a_practitioner_cannot_allocate(client, tokens):
    referral = submit(client, tokens)
    screened = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, '"1"')
    response = step(
        client,
        tokens,
        referral["id"],
        SOCIAL_WORKER,
        {"to": "allocated", "allocated_team": "T"},
        screened.headers["etag"],
    )
    assert response.status_code == 403


def test_a_referral_received_now_is_due_a_working_day_later_and_not_yet_overdue(client, tokens):
    referral = submit(client, tokens)
    received = datetime.fromisoformat(referral["received_at"])
    due = datetime.fromisoformat(referral["decision_due_at"])
    # By the end of the next working day: a day or more away, at most six over Easter or Christmas.
    assert timedelta(days=1) <= due - received <= timedelta(days=6)
    assert referral["decision_overdue"] is False
    overdue = client.get(
        "/api/v1/referrals/overdue-decisions", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert overdue["items"] == []


def overdue_decisions(client, tokens):
    page = client.get(
        "/api/v1/referrals/overdue-decisions", params={"limit": 100}, headers=bearer(tokens, SOCIAL_WORKER)
    )
    assert page.status_code == 200, page.text
    return sorted(r["id"] for r in page.json()["items"])


def test_a_referral_not_decided_within_one_working_day_is_on_the_overdue_list_until_decided(
    client, tokens, referral_clock
):
    friday_afternoon = datetime(2025, 11, 21, 15, 0, tzinfo=UTC)  # 15:00 in London too (GMT)
    due = datetime(2025, 11, 25, 0, 0, tzinfo=UTC)  # the weekend is skipped: by the end of Monday
    referral_clock.now = friday_afternoon
    waiting = {outcome: submit(client, tokens) for outcome in DECISION_DETAILS}
    decided_in_time = submit(client, tokens)
    for referral in [*waiting.values(), decided_in_time]:
        assert datetime.fromisoformat(referral["decision_due_at"]) == due

    referral_clock.now = due - timedelta(hours=1)
    screen_and_decide(client, tokens, decided_in_time, "no_further_action")
    referral_clock.now = due  # due now, not yet late
    assert overdue_decisions(client, tokens) == []

    referral_clock.now = due + timedelta(minutes=1)
    late = sorted(r["id"] for r in waiting.values())
    assert overdue_decisions(client, tokens) == late
    read = client.get(f"/api/v1/referrals/{late[0]}", headers=bearer(tokens, SOCIAL_WORKER)).json()
    assert read["decision_overdue"] is True

    # Screening is not a decision: the clock keeps running until the manager decides.
    screened = {o: move(client, tokens, r, SOCIAL_WORKER, to="screening") for o, r in waiting.items()}
    assert overdue_decisions(client, tokens) == late

    referral_clock.now = due + timedelta(hours=2)
    for outcome, referral in screened.items():
        decided = move(client, tokens, referral, HUB_MANAGER, to=outcome, **DECISION_DETAILS[outcome])
        assert decided["status"] == outcome
        assert datetime.fromisoformat(decided["decided_at"]) == referral_clock.now
        assert decided["decision_overdue"] is False
        late.remove(referral["id"])
        assert overdue_decisions(client, tokens) == late, f"{outcome} should end the clock"


def test_first_contact_is_recorded_once(client, tokens):
    referral = submit(client, tokens)
    headers = {**tokens.headers(**SOCIAL_WORKER), "If-Match": '"1"'}
    at = datetime.now(UTC).isoformat()
    first = client.post(
        f"/api/v1/referrals/{referral['id']}/first-contact", json={"contacted_at": at}, headers=headers
    )
    assert first.status_code == 200, first.text
    assert first.json()["first_contact_at"] is not None
    again = client.post(
        f"/api/v1/referrals/{referral['id']}/first-contact",
        json={"contacted_at": at},
        headers={**headers, "If-Match": first.headers["etag"]},
    )
    assert again.status_code == 409
