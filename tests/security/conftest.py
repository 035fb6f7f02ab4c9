"""Fixtures the OWASP API Security Top 10 suites share: the callers an attacker might be
(real signed tokens from the stack's dev issuer), a check that an answer is an RFC 9457
problem, and the case records the attacks aim at, made once per run through the real
gateway.

The records: a child referred by the police (``police_case``), with a missing episode
and a risk assessment, that no school ever touched; and a child referred by a school
(``school_case``). Names carry a random suffix, so the suites can share the stack's
databases with any other suite in the same run.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from devstack.stack import Stack
from safeguarding_kit.testing import TokenFactory

PROBLEM_JSON = "application/problem+json"

# name -> (agency, agency type, roles)
CALLERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "school referrer": ("sheffield-schools", "education", ("referrer",)),
    "school practitioner": ("sheffield-schools", "education", ("practitioner", "risk_assessor")),
    "school manager": ("sheffield-schools", "education", ("manager",)),
    "school admin": ("sheffield-schools", "education", ("admin",)),
    "school coordinator": ("sheffield-schools", "education", ("meeting_coordinator",)),
    "police referrer": ("south-yorkshire-police", "police", ("referrer",)),
    "police practitioner": ("south-yorkshire-police", "police", ("practitioner",)),
    "social worker": ("sheffield-social-care", "social_care", ("practitioner", "risk_assessor")),
    "social care manager": ("sheffield-social-care", "social_care", ("manager",)),
    "social care admin": ("sheffield-social-care", "social_care", ("admin",)),
    "coordinator": ("sheffield-social-care", "social_care", ("meeting_coordinator",)),
    "health analyst": ("sheffield-health", "health", ("analyst",)),
    "auditor": ("sheffield-council", "social_care", ("auditor",)),
    "youth practitioner": ("sheffield-youth", "youth_service", ("practitioner", "risk_assessor")),
    "youth admin": ("sheffield-youth", "youth_service", ("admin",)),
    "charity manager": ("st-examples-church", "voluntary", ("manager",)),
    "roleless school token": ("sheffield-schools", "education", ()),
    "charity auditor": ("st-examples-church", "voluntary", ("auditor",)),
    "faith referrer": ("st-examples-church", "voluntary", ("referrer",)),
    # Admins of agencies no child is linked to: their webhook endpoints never get a delivery,
    # so no test makes the platform call out.
    "charity admin": ("safe-space-sheffield", "voluntary", ("admin",)),
    "other charity admin": ("sheffield-young-carers", "voluntary", ("admin",)),
}


def nhs_number() -> str:
    """A random NHS number with a valid modulus 11 check digit."""
    while True:
        digits = [random.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def child_details(**overrides: Any) -> dict[str, Any]:
    """An invented child with a unique name and NHS number."""
    suffix = uuid.uuid4().hex[:8]
    details: dict[str, Any] = {
        "given_name": f"Owasp{suffix}",
        "family_name": f"Example{suffix}",
        "date_of_birth": "2011-05-17",
        "gender": "female",
        "nhs_number": nhs_number(),
    }
    details.update(overrides)
    return details


def referral_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child": child_details(),
        "referrer": {"name": "Sam Sender", "role": "Designated Safeguarding Lead"},
        "concern_types": ["sexual_exploitation"],
        "summary": "Seen getting into cars with older men after school.",
        "lawful_basis": {"basis": "consent"},
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="session")
def new() -> SimpleNamespace:
    """Bodies for fresh records: ``new.child()``, ``new.referral(...)``, ``new.nhs_number()``."""
    return SimpleNamespace(child=child_details, referral=referral_body, nhs_number=nhs_number)


@pytest.fixture(scope="session")
def as_(stack_tokens: TokenFactory) -> Callable[[str], dict[str, str]]:
    """``as_("school referrer")``: the Authorization header of that caller."""

    def headers(caller: str) -> dict[str, str]:
        agency, agency_type, roles = CALLERS[caller]
        return stack_tokens.headers(
            agency=agency, agency_type=agency_type, roles=list(roles), sub=f"{caller.replace(' ', '-')}"
        )

    return headers


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status``, and tells nothing of the code."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text[:500]}"
    assert answer.headers["content-type"] == PROBLEM_JSON, answer.headers.get("content-type")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:safeguarding:problem:")
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in answer.text
    assert 'File "' not in answer.text
    return body


@pytest.fixture(scope="session")
def problem() -> Callable[[httpx.Response, int], dict[str, Any]]:
    """``problem(answer, 404)``: assert an RFC 9457 problem with that status; its body."""
    return assert_problem


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client (kept-alive connections) for requests to any process of the stack."""
    with httpx.Client(timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as client:
        yield client


@dataclass(frozen=True)
class Case:
    child: dict[str, Any]
    child_id: str
    referral_id: str
    episode_id: str | None = None
    assessment_id: str | None = None


def wait_for_risk_record(gateway: httpx.Client, headers: dict[str, str], child_id: str) -> httpx.Response:
    """The child's risk record, once the referral's event has opened a screening there."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=headers)
        if risk.status_code == 200:
            return risk
        time.sleep(0.2)
    raise AssertionError("the risk service never opened a screening for the child")


@pytest.fixture(scope="session")
def police_case(gateway: httpx.Client, as_: Callable[[str], dict[str, str]]) -> Case:
    """A child referred by the police, with a missing episode and a risk assessment; no
    school, youth service or charity is linked to this child."""
    child = child_details(police_reference=f"SYP-{uuid.uuid4().hex[:10]}")
    referral = gateway.post(
        "/api/v1/referrals",
        headers=as_("police referrer"),
        json=referral_body(child=child, source_reference=f"SYP-{uuid.uuid4().hex}"),
    )
    assert referral.status_code == 201, referral.text
    child_id = referral.json()["child_id"]
    episode = gateway.post(
        "/api/v1/missing-episodes",
        headers=as_("police practitioner"),
        json={"child_id": child_id, "reported_missing_at": "2026-11-20T21:00:00Z"},
    )
    assert episode.status_code == 201, episode.text
    risk = wait_for_risk_record(gateway, as_("social worker"), child_id)
    assessment = gateway.post(
        f"/api/v1/risk/children/{child_id}/assessments",
        headers={**as_("social worker"), "If-Match": risk.headers["etag"]},
        json={
            "age_at_assessment": 15,
            "answers": [{"indicator_code": "missing_repeat", "answer": "present", "evidence": "Four times."}],
        },
    )
    assert assessment.status_code == 201, assessment.text
    return Case(child, child_id, referral.json()["id"], episode.json()["id"], assessment.json()["id"])


@pytest.fixture(scope="session")
def school_case(gateway: httpx.Client, as_: Callable[[str], dict[str, str]]) -> Case:
    """A child referred by a school (so the school's case workers may read the case)."""
    child = child_details()
    referral = gateway.post(
        "/api/v1/referrals",
        headers=as_("school referrer"),
        json=referral_body(child=child, source_reference=f"SCH-{uuid.uuid4().hex}"),
    )
    assert referral.status_code == 201, referral.text
    return Case(child, referral.json()["child_id"], referral.json()["id"])
