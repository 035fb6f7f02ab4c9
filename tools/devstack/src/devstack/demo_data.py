"""A little invented demo data, loaded through the gateway like a partner system would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from safeguarding_kit.auth.dev_issuer import mint_dev_token

# The data administrator who loads the partnership's historic referrals (`make import`):
# an admin of the council's business unit, which the demo agreement grants migrates_records.
DEMO_DATA_ADMINISTRATOR: dict[str, Any] = {
    "agency": "sheffield-council",
    "agency_type": "social_care",
    "roles": ["admin"],
    "sub": "data.admin@sheffield-council.example",
}

DEMO_REFERRALS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]},
        {
            "source_reference": "DEMO-SCH-0001",
            "child": {
                "given_name": "Jordan",
                "family_name": "Example",
                "date_of_birth": "2011-03-14",
                "gender": "male",
                "ethnicity": "mixed_white_and_black_caribbean",
                "nhs_number": "9434765919",
                "school": "Hillsborough Academy",
                "home_ward_code": "E05010863",
            },
            "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
            "lawful_basis": {"basis": "consent"},
            "concern_types": ["criminal_exploitation", "county_lines"],
            "summary": "Year 10 pupil seen getting into cars with older males after school; new phone "
            "and trainers; missing from lessons three times this month.",
            "urgency": "urgent",
        },
    ),
    (
        {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["referrer"]},
        {
            "source_reference": "DEMO-SYP-0001",
            "child": {
                "given_name": "Casey",
                "family_name": "Invented",
                "date_of_birth": "2010-09-02",
                "gender": "female",
                "ethnicity": "white_british",
                "looked_after": True,
                "home_ward_code": "E05010870",
            },
            "referrer": {"name": "PC Alex Officer", "role": "Missing person coordinator"},
            "lawful_basis": {
                "basis": "safeguarding_without_consent",
                "reason": "Immediate risk of harm; seeking consent would delay protection.",
            },
            "concern_types": ["sexual_exploitation", "missing"],
            "summary": "Found at a hotel with two adult males after being reported missing overnight.",
            "urgency": "immediate",
        },
    ),
    (
        {"agency": "sheffield-health", "agency_type": "health", "roles": ["referrer"]},
        {
            "source_reference": "DEMO-NHS-0001",
            "child": {
                "given_name": "Jordan",
                "family_name": "Example",
                "date_of_birth": "2011-03-14",
                "gender": "male",
                "nhs_number": "9434765919",
            },
            "referrer": {"name": "Dr Morgan Nurse", "role": "School nurse"},
            "lawful_basis": {"basis": "consent"},
            "concern_types": ["online_harm"],
            "summary": "Disclosed being asked for images by an online contact who sends gifts.",
            "urgency": "routine",
        },
    ),
]


def load_demo_data(gateway_url: str, key_dir: Path) -> int:
    """Post the demo referrals; returns how many were new (reruns change nothing)."""
    created = 0
    with httpx.Client(base_url=gateway_url, timeout=10.0) as client:
        for who, body in DEMO_REFERRALS:
            token = mint_dev_token(key_dir, **who)
            response = client.post(
                "/api/v1/referrals", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if response.status_code == 201:
                created += 1
            elif response.status_code != 409:  # 409: loaded by an earlier run
                response.raise_for_status()
    return created
