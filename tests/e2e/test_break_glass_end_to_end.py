"""Break-glass through the real gateway: a youth worker whose agency is not linked to a
child opens the child's record in an emergency; the referral service's `access.break_glass`
event then opens the child's risk in the risk service to that worker too (no call between
the services at read time)."""

from __future__ import annotations

import httpx
import pytest

from safeguarding_kit.testing import eventually

pytestmark = pytest.mark.e2e

SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner"],
    "sub": "duty.worker@sheffield-youth",
}
COUNCIL_AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
REASON = "Found at 02:00 in a hotel with two adults; out-of-hours duty worker planning tonight."


def test_a_youth_worker_breaks_glass_and_then_reads_the_childs_record_and_risk(stack, stack_tokens):
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15.0) as gateway:
        referral = gateway.post(
            "/api/v1/referrals",
            json={
                "child": {
                    "given_name": "Kayden",
                    "family_name": "Glassbroken",
                    "date_of_birth": "2011-06-06",
                    "gender": "male",
                },
                "referrer": {"name": "Sam Teacher", "role": "DSL"},
                "concern_types": ["criminal_exploitation"],
                "summary": "Seen carrying packages for older men near the station.",
                "lawful_basis": {"basis": "consent"},
            },
            headers=stack_tokens.headers(**SCHOOL),
        )
        assert referral.status_code == 201, referral.text
        child_id = referral.json()["child_id"]
        risk_url, record_url = f"/api/v1/risk/children/{child_id}", f"/api/v1/children/{child_id}"
        eventually(
            lambda: gateway.get(risk_url, headers=stack_tokens.headers(**HUB)).status_code == 200,
            "the referral opened a screening in the risk service",
        )
        worker = stack_tokens.headers(**YOUTH_WORKER)
        assert gateway.get(risk_url, headers=worker).status_code == 404
        assert gateway.get(record_url, headers=worker).status_code == 404

        opened = gateway.post(f"{record_url}/break-glass", json={"reason": REASON}, headers=worker)
        assert opened.status_code == 201, opened.text
        grant_id = opened.json()["id"]
        assert gateway.get(record_url, headers=worker).status_code == 200
        risk = eventually(
            lambda: (answer := gateway.get(risk_url, headers=worker)).status_code == 200 and answer,
            "the break-glass grant reached the risk service",
        )
        assert risk.json()["child_id"] == child_id
        assert gateway.get(f"{risk_url}/assessments", headers=worker).status_code == 200
        # For that worker alone.
        colleague = stack_tokens.headers(**{**YOUTH_WORKER, "sub": "another.worker@sheffield-youth"})
        assert gateway.get(risk_url, headers=colleague).status_code == 404

        log = gateway.get(f"{risk_url}/access-log", headers=stack_tokens.headers(**COUNCIL_AUDITOR))
        assert log.status_code == 200, log.text
        reads = [
            e
            for e in log.json()["items"]
            if e["actor_sub"] == YOUTH_WORKER["sub"] and e["outcome"] == "allowed"
        ]
        assert reads
        assert all(e["detail"].startswith(f"break_glass:{grant_id}") for e in reads)
