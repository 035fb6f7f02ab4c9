"""The hub moving referrals through screening, decision and closure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referral_scenarios import HUB_MANAGER, PROBLEM, SCHOOL, SOCIAL_WORKER, referral_body

from referral_api.referrals.models import ReferralStatus
from referral_api.referrals.workflow import ALLOWED_TRANSITIONS, can_transition


def submit(client, tokens):
    response = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL))
    return response.json()


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
        {"to": "signposted", "signposted_to": "Community Youth Team"},
        screened.headers["etag"],
    )
    assert done.json()["signposted_to"] == "Community Youth Team"


def test_an_impossible_step_is_409_and_changes_nothing(client, tokens):
    referral = submit(client, tokens)
    response = step(
        client, tokens, referral["id"], HUB_MANAGER, {"to": "allocated", "allocated_team": "Team A"}, '"1"'
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    after = client.get(f"/api/v1/referrals/{referral['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert (after["status"], after["version"]) == ("received", 1)


def test_an_update_without_if_match_is_428(client, tokens):
    referral = submit(client, tokens)
    response = step(client, tokens, referral["id"], SOCIAL_WORKER, {"to": "screening"}, None)
    assert response.status_code == 428


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
        {"to": "signposted", "signposted_to": "Community Youth Team"},
        seen_by_both,
    )
    assert first.status_code == 200
    assert second.status_code == 412
    after = client.get(f"/api/v1/referrals/{referral['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert after["status"] == "allocated"
    assert after["signposted_to"] is None


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


def test_decision_is_due_one_working_day_after_receipt_and_listed_when_overdue(client, tokens):
    referral = submit(client, tokens)
    received = datetime.fromisoformat(referral["received_at"])
    due = datetime.fromisoformat(referral["decision_due_at"])
    assert timedelta(days=1) <= due - received <= timedelta(days=5)
    assert referral["decision_overdue"] is False
    overdue = client.get(
        "/api/v1/referrals/overdue-decisions", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert overdue["items"] == []


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
