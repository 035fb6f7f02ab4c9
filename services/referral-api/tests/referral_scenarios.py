"""Who calls, and what they send, in the referral service's tests."""

from __future__ import annotations

import copy
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
