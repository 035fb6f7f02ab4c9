"""Screening and deciding referrals is the hub's referral decision team's work
(`decides_referrals`), and a case is allocated only to an agency of the partnership
agreement, whoever else is linked to the child."""

from __future__ import annotations

import pytest
from referral_scenarios import (
    DECISION_DETAILS,
    HUB_MANAGER,
    PROBLEM,
    SOCIAL_WORKER,
    bearer,
    move,
    submit,
)

from referral_api.referrals.models import ReferralStatus
from referral_api.referrals.workflow import PERMISSION_FOR
from safeguarding_kit.partnership.policy import Permission

YOUTH_CLUB_MANAGER = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["manager"]}
YOUTH_WORKER = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["practitioner"]}
POLICE_OFFICER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
POLICE_MANAGER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["manager"]}
COUNCIL_MANAGER = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["manager"]}


def step(client, tokens, referral: dict, who: dict, **body):
    return client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json=body,
        headers={**bearer(tokens, who), "If-Match": f'"{referral["version"]}"'},
    )


def police_referral_about_a_child_the_youth_club_is_linked_to(client, tokens) -> dict:
    """The youth club refers a child (so it is linked to them); then the police refer the
    same child by id."""
    youth_referral = submit(client, tokens, YOUTH_CLUB_MANAGER)
    return submit(client, tokens, POLICE_OFFICER, child=None, child_id=youth_referral["child_id"])


def assert_refused_naming_role_and_capacity(answer, role: str) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert f"`{role}`" in answer.json()["detail"]
    assert "`decides_referrals`" in answer.json()["detail"]


def test_every_workflow_step_needs_the_decides_referrals_capacity():
    assert PERMISSION_FOR[ReferralStatus.screening] is Permission.screen_referrals
    for decision in ("allocated", "signposted", "no_further_action", "closed"):
        assert PERMISSION_FOR[ReferralStatus(decision)] is Permission.decide_referrals


def test_youth_club_manager_linked_to_a_child_cannot_screen_a_police_referral(client, tokens):
    referral = police_referral_about_a_child_the_youth_club_is_linked_to(client, tokens)
    # Linked to the child, the youth club reads the referral...
    read = client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(tokens, YOUTH_CLUB_MANAGER))
    assert read.status_code == 200
    # ...but does not decide it.
    refused = step(client, tokens, referral, YOUTH_CLUB_MANAGER, to="screening")
    assert_refused_naming_role_and_capacity(refused, "practitioner")


@pytest.mark.parametrize("decision", ["allocated", "signposted", "no_further_action"])
def test_youth_club_manager_linked_to_a_child_cannot_allocate_a_police_referral(client, tokens, decision):
    referral = police_referral_about_a_child_the_youth_club_is_linked_to(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    refused = step(
        client,
        tokens,
        screened,
        YOUTH_CLUB_MANAGER,
        to=decision,
        **{**DECISION_DETAILS[decision], "allocated_agency": "sheffield-youth"},
    )
    assert_refused_naming_role_and_capacity(refused, "manager")
    unchanged = client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(tokens, SOCIAL_WORKER))
    assert unchanged.json()["status"] == "screening"
    assert unchanged.json()["allocation"] is None


def test_youth_club_manager_linked_to_a_child_cannot_close_a_police_referral(client, tokens):
    referral = police_referral_about_a_child_the_youth_club_is_linked_to(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    decided = move(client, tokens, screened, HUB_MANAGER, to="signposted", **DECISION_DETAILS["signposted"])
    refused = step(
        client, tokens, decided, YOUTH_CLUB_MANAGER, to="closed", reason="Nothing more to do here."
    )
    assert_refused_naming_role_and_capacity(refused, "manager")


@pytest.mark.parametrize("who", [POLICE_MANAGER, COUNCIL_MANAGER], ids=["police-all-cases", "council"])
def test_managers_of_agencies_without_decides_referrals_cannot_decide(client, tokens, who):
    referral = submit(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    refused = step(client, tokens, screened, who, to="allocated", **DECISION_DETAILS["allocated"])
    assert refused.status_code == 403


def test_a_practitioner_of_the_decision_team_screens_but_does_not_decide(client, tokens):
    referral = submit(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    refused = step(client, tokens, screened, SOCIAL_WORKER, to="allocated", **DECISION_DETAILS["allocated"])
    assert_refused_naming_role_and_capacity(refused, "manager")


def test_the_transition_operation_says_which_role_and_capacity_it_needs(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/referrals/{referral_id}/transitions"]
    description = operation["post"]["description"]
    assert "decides_referrals" in description
    assert "`manager`" in description


def test_allocation_to_an_agency_outside_the_agreement_is_422(client, tokens):
    referral = submit(client, tokens)
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    refused = step(
        client,
        tokens,
        screened,
        HUB_MANAGER,
        to="allocated",
        allocated_agency="invented-agency",
        **DECISION_DETAILS["allocated"],
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert [e["pointer"] for e in refused.json()["errors"]] == ["#/allocated_agency"]
    unchanged = client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(tokens, SOCIAL_WORKER))
    assert (unchanged.json()["status"], unchanged.json()["version"]) == ("screening", screened["version"])


def test_allocation_to_an_agency_of_the_agreement_opens_the_child_to_it(client, tokens):
    referral = submit(client, tokens)
    child_url = f"/api/v1/children/{referral['child_id']}"
    assert client.get(child_url, headers=bearer(tokens, YOUTH_WORKER)).status_code == 404
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    allocated = move(
        client,
        tokens,
        screened,
        HUB_MANAGER,
        to="allocated",
        allocated_agency="sheffield-youth",
        **DECISION_DETAILS["allocated"],
    )
    assert allocated["allocation"]["agency"] == "sheffield-youth"
    assert client.get(child_url, headers=bearer(tokens, YOUTH_WORKER)).status_code == 200
