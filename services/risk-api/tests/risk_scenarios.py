"""Who calls the risk service in its tests, and what they send."""

from __future__ import annotations

import uuid
from typing import Any

PROBLEM = "application/problem+json"
# The partnership business unit governs the risk model (the demo agreement grants it
# governs_risk_models, exact_figures and audits); publishing takes two of its admins.
ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"], "sub": "admin-1"}
SECOND_ADMIN = {**ADMIN, "sub": "admin-2"}
YOUTH_CLUB_ADMIN = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["admin"],
    "sub": "youth-admin",
}
VOLUNTARY_MANAGER = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["manager"]}
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
COUNCIL_AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
HEALTH_PRACTITIONER = {"agency": "sheffield-health", "agency_type": "health", "roles": ["practitioner"]}


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


def publish(client: Any, tokens: Any, model_id: str, etag: str) -> Any:
    """Publish a draft as the partnership does: one governing admin asks, a second approves."""
    asked = client.post(
        f"/api/v1/risk/models/{model_id}/approval-request",
        headers={**tokens.headers(**ADMIN), "If-Match": etag},
    )
    assert asked.status_code == 201, asked.text
    return client.post(
        f"/api/v1/risk/models/{model_id}/approval",
        headers={**tokens.headers(**SECOND_ADMIN), "If-Match": asked.headers["etag"]},
    )
