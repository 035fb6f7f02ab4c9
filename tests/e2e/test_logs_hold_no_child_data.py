"""No child's name or NHS number ever reaches a log line, whatever the processes did
with them (including refusing them)."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.e2e
SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["practitioner"]}
CHILDREN = [("Zebedee", "Quillfeather", "9434765919"), ("Ysolde", "Marchbanks", "9434765870")]


def wrong_check_digit(nhs: str) -> str:
    return nhs[:-1] + str((int(nhs[-1]) + 1) % 10)


def test_children_s_names_and_nhs_numbers_never_appear_in_any_log_line(stack, stack_tokens):
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15.0) as gateway:
        for given, family, nhs in CHILDREN:
            child = {
                "given_name": given,
                "family_name": family,
                "date_of_birth": "2011-02-02",
                "gender": "female",
                "nhs_number": nhs,
            }
            body = {
                "child": child,
                "referrer": {"name": "Sam", "role": "DSL"},
                "concern_types": ["county_lines"],
                "summary": f"{given} was seen with older youths.",
                "lawful_basis": {"basis": "consent"},
            }
            created = gateway.post("/api/v1/referrals", json=body, headers=stack_tokens.headers(**SCHOOL))
            assert created.status_code == 201, created.text
            gateway.get(f"/api/v1/children/{created.json()['child_id']}", headers=stack_tokens.headers(**HUB))
            # and refused input that carries them too
            bad = {**body, "child": {**child, "nhs_number": wrong_check_digit(nhs)}}
            assert (
                gateway.post(
                    "/api/v1/referrals", json=bad, headers=stack_tokens.headers(**SCHOOL)
                ).status_code
                == 422
            )
    time.sleep(1)  # let the processes flush their logs and the relay deliver
    logs = "\n".join(p.read_text() for p in stack.config.log_dir.glob("*.log"))
    assert logs  # the processes did log
    for given, family, nhs in CHILDREN:
        for secret in (given, family, nhs, wrong_check_digit(nhs)):
            assert secret not in logs, f"{secret!r} appears in a log"
