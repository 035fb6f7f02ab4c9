"""Who may see a child's records, as a table: agency types x roles x read / list / update,
for the child, its referral, its missing episode and its risk - through the gateway and
straight to each service, including ids nested in bodies and in list filters. A read
that is refused is 404 (as if the record did not exist) and is itself audited.

The child was referred by a school; the hub's own teams (the agencies the partnership
agreement grants ``all_cases``: the MASH social care and health teams, the police
exploitation unit) read every case; the school's case workers read the children linked
to the school; a youth service with no link, a GP surgery (a health agency that is not a
hub member), referrers (beyond what their own agency sent), analysts and auditors read none.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import pytest

pytestmark = pytest.mark.e2e

SCHOOL_REFERRER = ("sheffield-schools", "education", ["referrer"])
SCHOOL_WORKER = ("sheffield-schools", "education", ["practitioner"])
POLICE_WORKER = ("south-yorkshire-police", "police", ["practitioner"])
SOCIAL_WORKER = ("sheffield-social-care", "social_care", ["practitioner", "risk_assessor"])
HEALTH_WORKER = ("sheffield-health", "health", ["practitioner"])
YOUTH_WORKER = ("sheffield-youth", "youth_service", ["practitioner", "risk_assessor"])
POLICE_REFERRER = ("south-yorkshire-police", "police", ["referrer"])
HEALTH_ANALYST = ("sheffield-health", "health", ["analyst"])
AUDITOR = ("sheffield-council", "social_care", ["auditor"])
GP_WORKER = ("norfolk-park-medical-practice", "health", ["practitioner", "manager"])

CALLERS = {
    "school referrer": SCHOOL_REFERRER,
    "school practitioner (linked)": SCHOOL_WORKER,
    "police practitioner": POLICE_WORKER,
    "social care practitioner": SOCIAL_WORKER,
    "health practitioner": HEALTH_WORKER,
    "youth practitioner (not linked)": YOUTH_WORKER,
    "police referrer": POLICE_REFERRER,
    "health analyst": HEALTH_ANALYST,
    "auditor": AUDITOR,
    "GP surgery practitioner (health, not a hub member)": GP_WORKER,
}
CASE_READERS = {
    "school practitioner (linked)",
    "police practitioner",
    "social care practitioner",
    "health practitioner",
}
# The referral itself: its case readers, and the agency that sent it.
REFERRAL_READERS = CASE_READERS | {"school referrer"}


@dataclass
class Case:
    child_id: str
    referral_id: str
    episode_id: str


@pytest.fixture(scope="module")
def case(stack, stack_tokens) -> Case:
    def headers(caller: tuple[str, str, list[str]]) -> dict[str, str]:
        agency, agency_type, roles = caller
        return stack_tokens.headers(agency=agency, agency_type=agency_type, roles=roles)

    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        referral = gateway.post(
            "/api/v1/referrals",
            headers=headers(SCHOOL_REFERRER),
            json={
                "child": {
                    "given_name": "Matrix",
                    "family_name": "Child",
                    "date_of_birth": "2010-02-02",
                    "gender": "female",
                },
                "referrer": {"name": "Sam Teacher", "role": "DSL"},
                "concern_types": ["sexual_exploitation"],
                "summary": "Seen with older men near the station.",
                "lawful_basis": {"basis": "consent"},
            },
        )
        assert referral.status_code == 201, referral.text
        child_id = referral.json()["child_id"]
        episode = gateway.post(
            "/api/v1/missing-episodes",
            headers=headers(SOCIAL_WORKER),
            json={"child_id": child_id, "reported_missing_at": "2026-11-20T21:00:00Z"},
        )
        assert episode.status_code == 201, episode.text
        # The risk service learns of the child (a screening) and of the school's link by events.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=headers(SCHOOL_WORKER))
            if risk.status_code == 200:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the risk service never learnt of the child and the school's link")
        return Case(child_id, referral.json()["id"], episode.json()["id"])


def reads(case: Case) -> dict[str, tuple[str, str, set[str]]]:
    """What is read: (service, path, who may read it)."""
    return {
        "child": ("referral-api", f"/api/v1/children/{case.child_id}", CASE_READERS),
        "referral": ("referral-api", f"/api/v1/referrals/{case.referral_id}", REFERRAL_READERS),
        "referral history": (
            "referral-api",
            f"/api/v1/referrals/{case.referral_id}/history",
            REFERRAL_READERS,
        ),
        "missing episode": ("referral-api", f"/api/v1/missing-episodes/{case.episode_id}", CASE_READERS),
        "risk": ("risk-api", f"/api/v1/risk/children/{case.child_id}", CASE_READERS),
        "risk history": ("risk-api", f"/api/v1/risk/children/{case.child_id}/assessments", CASE_READERS),
    }


@pytest.mark.parametrize("route", ["gateway", "direct"])
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_reading_a_childs_records(stack, stack_tokens, case, caller, route):
    agency, agency_type, roles = CALLERS[caller]
    headers = stack_tokens.headers(agency=agency, agency_type=agency_type, roles=roles)
    for record, (service, path, readers) in reads(case).items():
        base = stack.config.gateway_url if route == "gateway" else stack.config.url_of(service)
        answer = httpx.get(base + path, headers=headers, timeout=15)
        if caller in readers:
            assert answer.status_code == 200, f"{caller} reading the {record}: {answer.status_code}"
            continue
        # Refused exactly as a record that does not exist would be: 404, or 403 when the
        # caller's roles never read records of this kind (the same answer for any id).
        ghost = httpx.get(base + ghost_path(path, case), headers=headers, timeout=15)
        assert answer.status_code in (403, 404), f"{caller} reading the {record}: {answer.status_code}"
        assert answer.status_code == ghost.status_code, f"{caller} can tell the {record} exists"
        assert answer.json()["title"] == ghost.json()["title"]


def ghost_path(path: str, case: Case) -> str:
    """The same path about records that do not exist."""
    for real in (case.child_id, case.referral_id, case.episode_id):
        path = path.replace(real, str(uuid.uuid4()))
    return path


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_list_filters_show_no_more_than_reads_do(stack, stack_tokens, case, caller):
    agency, agency_type, roles = CALLERS[caller]
    headers = stack_tokens.headers(agency=agency, agency_type=agency_type, roles=roles)
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        referrals = gateway.get("/api/v1/referrals", params={"child_id": case.child_id}, headers=headers)
        episodes = gateway.get(
            "/api/v1/missing-episodes", params={"child_id": case.child_id}, headers=headers
        )
    for answer, readers, what in (
        (referrals, REFERRAL_READERS, "referrals"),
        (episodes, CASE_READERS, "missing episodes"),
    ):
        if answer.status_code != 200:
            assert answer.status_code == 403, f"{caller} listing {what}: {answer.status_code}"
            assert caller not in readers
            continue
        ids = {item["child_id"] for item in answer.json()["items"]}
        if caller in readers:
            assert ids == {case.child_id}, f"{caller} listing {what}"
        else:
            assert ids == set(), f"{caller} saw {what} of a child they may not see"


def test_ids_nested_in_bodies_are_checked_like_reads(stack, stack_tokens, case):
    youth = stack_tokens.headers(
        agency="sheffield-youth", agency_type="youth_service", roles=["practitioner"]
    )
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        episode = gateway.post(
            "/api/v1/missing-episodes",
            headers=youth,
            json={"child_id": case.child_id, "reported_missing_at": "2026-11-21T21:00:00Z"},
        )
        assert episode.status_code == 422
        assert episode.json()["errors"][0]["pointer"] == "#/child_id"
        assert "that you can see" in episode.json()["detail"]
        # A made-up id gets exactly the same answer: nothing tells the two apart.
        ghost = gateway.post(
            "/api/v1/missing-episodes",
            headers=youth,
            json={"child_id": str(uuid.uuid4()), "reported_missing_at": "2026-11-21T21:00:00Z"},
        )
        assert ghost.status_code == 422
        assert ghost.json()["detail"] == episode.json()["detail"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("social care practitioner", 200), ("youth practitioner (not linked)", 404), ("school referrer", 403)],
)
def test_updating_a_child(stack, stack_tokens, case, caller, expected):
    agency, agency_type, roles = CALLERS[caller]
    headers = stack_tokens.headers(agency=agency, agency_type=agency_type, roles=roles)
    reader = stack_tokens.headers(agency="sheffield-social-care", agency_type="social_care")
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        etag = gateway.get(f"/api/v1/children/{case.child_id}", headers=reader).headers["etag"]
        answer = gateway.patch(
            f"/api/v1/children/{case.child_id}",
            headers={**headers, "If-Match": etag},
            json={"school": f"School {uuid.uuid4().hex[:6]}"},
        )
    assert answer.status_code == expected, answer.text


def test_a_refused_read_is_itself_audited(stack, stack_tokens, case):
    youth = stack_tokens.headers(
        agency="sheffield-youth", agency_type="youth_service", roles=["practitioner"]
    )
    auditor = stack_tokens.headers(agency="sheffield-council", agency_type="social_care", roles=["auditor"])
    with httpx.Client(base_url=stack.config.gateway_url, timeout=15) as gateway:
        for path in (
            f"/api/v1/children/{case.child_id}",
            f"/api/v1/missing-episodes/{case.episode_id}",
            f"/api/v1/risk/children/{case.child_id}",
        ):
            assert gateway.get(path, headers=youth).status_code == 404
        referral_log = gateway.get(f"/api/v1/children/{case.child_id}/access-log?limit=100", headers=auditor)
        risk_log = gateway.get(f"/api/v1/risk/children/{case.child_id}/access-log?limit=100", headers=auditor)
    denied = [
        (e["resource_type"], e["actor_agency"])
        for log in (referral_log, risk_log)
        for e in log.json()["items"]
        if e["outcome"] == "denied"
    ]
    for resource in ("child", "missing_episode", "child_risk"):
        assert (resource, "sheffield-youth") in denied, f"the refused read of the {resource} was not audited"
