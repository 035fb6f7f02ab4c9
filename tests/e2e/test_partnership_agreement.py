"""The partnership agreement at work through the real gateway: every partner reads who
may see and do what; the development issuer is bound like any other, so `make token`
for an agency the agreement does not know gives a token the platform refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

SCHOOL_REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}


def test_any_partner_reads_the_agreement_the_platform_enforces(stack, stack_tokens):
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        answer = gateway.get("/api/v1/partnership", headers=stack_tokens.headers(**SCHOOL_REFERRER))
        anonymous = gateway.get("/api/v1/partnership")
    assert answer.status_code == 200, answer.text
    agreement = answer.json()
    agencies = {a["slug"] or a["pattern"]: a for a in agreement["agencies"]}
    assert agencies["sheffield-health"]["capacities"] == ["all_cases"]
    # A GP surgery is a health agency but not a hub member: no capacity at all.
    assert agencies["norfolk-park-medical-practice"]["type"] == "health"
    assert agencies["norfolk-park-medical-practice"]["capacities"] == []
    assert agencies["school-*"]["type"] == "education"
    assert "all_cases" in agreement["capacities"]
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("agency", "agency_type", "refused"),
    [
        ("sheffield-unknown-charity", "voluntary", True),  # not in the agreement
        ("sheffield-schools", "police", True),  # the agreement says education
        ("school-abbeydale-grange", "education", False),  # known by the school-* pattern
    ],
)
def test_make_token_for_an_agency_the_agreement_does_not_know_gives_a_token_the_platform_refuses(
    stack, agency, agency_type, refused
):
    made = subprocess.run(
        [
            sys.executable, "-m", "devstack", "token",
            "--data-dir", str(Path(stack.config.data_dir)),
            "--agency", agency, "--type", agency_type, "--roles", "referrer",
        ],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    token = made.stdout.strip()
    assert ("will refuse this token" in made.stderr) is refused
    answer = httpx.get(
        stack.config.gateway_url + "/api/v1/referrals",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == (401 if refused else 200), answer.text
