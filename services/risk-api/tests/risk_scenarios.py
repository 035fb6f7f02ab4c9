"""Who calls the risk service in its tests, and what they send."""

from __future__ import annotations

import uuid
from typing import Any

PROBLEM = "application/problem+json"
ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
ASSESSOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["risk_assessor"],
    "sub": "assessor-1",
}
MANAGER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["manager"],
    "sub": "manager-1",
}
POLICE_PRACTITIONER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner", "risk_assessor"],
}
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}


def answers(*present: str, absent: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [
        {
            "indicator_code": c,
            "answer": "present",
            "evidence": "seen",
            "source_agency": "south-yorkshire-police",
        }
        for c in present
    ] + [{"indicator_code": c, "answer": "absent"} for c in absent]


def new_child() -> str:
    return str(uuid.uuid4())
