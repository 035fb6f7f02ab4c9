"""Who calls, and what they send, in the referral service's tests."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

PROBLEM = "application/problem+json"

SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
POLICE = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["referrer"]}
SOCIAL_WORKER = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
HUB_MANAGER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["manager"],
    "sub": "manager@hub",
}
YOUTH_WORKER = {"agency": "sheffield-youth", "agency_type": "youth_service", "roles": ["practitioner"]}
AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}

VALID_NHS_NUMBERS = ["9434765919", "9434765870", "4010232137", "9000000009"]


def child_details(**overrides: Any) -> dict[str, Any]:
    child = {
        "given_name": "Jordan",
        "family_name": "Example",
        "date_of_birth": "2011-03-14",
        "gender": "male",
        "ethnicity": "mixed_white_and_black_caribbean",
        "school": "Hillsborough Academy",
        "home_ward_code": "E05010863",
    }
    child.update(overrides)
    return child


def referral_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child": child_details(),
        "referrer": {
            "name": "Sam Teacher",
            "role": "Designated Safeguarding Lead",
            "email": "dsl@school.example",
        },
        "concern_types": ["criminal_exploitation"],
        "summary": "Seen getting into cars with older males after school.",
        "lawful_basis": {"basis": "consent"},
        "urgency": "urgent",
    }
    body.update(copy.deepcopy(overrides))
    return body


HEALTH = {"agency": "sheffield-teaching-hospitals", "agency_type": "health", "roles": ["referrer"]}

# What each decision needs besides its target status.
DECISION_DETAILS: dict[str, dict[str, str]] = {
    "allocated": {"allocated_team": "Exploitation Team North", "allocated_worker": "worker-4411"},
    "signposted": {"signposted_to": "community-youth-team"},
    "no_further_action": {"reason": "No exploitation indicators after checks with school and police."},
}


_minted: dict[tuple[int, str], tuple[float, dict[str, str]]] = {}


def bearer(tokens: Any, who: dict[str, Any]) -> dict[str, str]:
    """Bearer headers for ``who``, reused for a few minutes: signing a token takes tens of
    milliseconds, which adds up in tests that make dozens of requests."""
    key = (id(tokens), json.dumps(who, sort_keys=True))
    minted = _minted.get(key)
    if minted is None or time.monotonic() - minted[0] > 300:
        minted = _minted[key] = (time.monotonic(), tokens.headers(**who))
    return dict(minted[1])


def submit(client: Any, tokens: Any, who: dict[str, Any] = SCHOOL, **overrides: Any) -> dict[str, Any]:
    """A referral posted by ``who`` (a school by default); its body as answered."""
    response = client.post("/api/v1/referrals", json=referral_body(**overrides), headers=bearer(tokens, who))
    assert response.status_code == 201, response.text
    return response.json()


def move(
    client: Any, tokens: Any, referral: dict[str, Any], who: dict[str, Any], **step: Any
) -> dict[str, Any]:
    """The referral moved one step by ``who`` from the version in ``referral``; the new body."""
    response = client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json=step,
        headers={**bearer(tokens, who), "If-Match": f'"{referral["version"]}"'},
    )
    assert response.status_code == 200, response.text
    return response.json()


def screen_and_decide(
    client: Any, tokens: Any, referral: dict[str, Any], outcome: str, **details: str
) -> dict[str, Any]:
    """The duty social worker screens the referral and the hub manager decides it."""
    screened = move(client, tokens, referral, SOCIAL_WORKER, to="screening")
    return move(client, tokens, screened, HUB_MANAGER, to=outcome, **{**DECISION_DETAILS[outcome], **details})
