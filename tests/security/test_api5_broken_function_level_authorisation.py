"""OWASP API5:2023 Broken function level authorisation: a caller using an operation its
roles (or its agency's type) do not allow, on records it may otherwise know of. Each is
403 problem+json and changes nothing. The table is the platform's role model read as an
attacker would: the operations one step above each caller.

tests/e2e/test_jwt_attacks.py checks one such refusal (a referrer merging children); the
services' own tests check several in-process. This module runs the whole table through
the real gateway.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from owasp_scenarios import one_meeting

from api_gateway.routing import upstream_for

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Ids:
    referral: str
    child: str
    assessment: str
    model: str
    occurrence: str
    item: str


@pytest.fixture(scope="module")
def ids(gateway, as_, school_case, police_case) -> Ids:
    coordinator = as_("coordinator")
    model = gateway.get("/api/v1/risk/models", headers=as_("social worker")).json()["items"][0]["id"]
    occurrence = one_meeting(gateway, coordinator, "2027-11-03T10:00:00")
    item = gateway.post(
        f"/api/v1/meetings/occurrences/{occurrence}/agenda/items",
        headers=coordinator,
        json={
            "kind": "child",
            "title": "Child discussed",
            "child_ids": [school_case.child_id],
            "reason": "Raised",
        },
    )
    assert item.status_code == 201, item.text
    return Ids(
        school_case.referral_id,
        school_case.child_id,
        police_case.assessment_id,
        model,
        occurrence,
        item.json()["id"],
    )


REFERRAL_BODY = {
    "child": {"given_name": "A", "family_name": "B", "date_of_birth": "2011-01-01", "gender": "male"},
    "referrer": {"name": "Sam", "role": "Teacher"},
    "concern_types": ["sexual_exploitation"],
    "summary": "Seen with adults.",
    "lawful_basis": {"basis": "consent"},
}
MODEL_BODY = {
    "name": "Attacker's model",
    "thresholds": {"medium_from": 1, "high_from": 2},
    "indicators": [
        {
            "code": "anything",
            "text": "Anything at all",
            "category": "other",
            "exploitation_type": "both",
            "weight": 1,
        }
    ],
}
WEBHOOK = {"url": "https://93.184.216.34/hooks", "event_types": ["referral.received"]}
RISK_WEBHOOK = {"url": "https://93.184.216.34/hooks", "event_types": ["risk.assessed"]}
ATTENDANCE = {
    "attendees": [
        {"agency": "sheffield-schools", "agency_type": "education", "person_name": "Pat", "status": "present"}
    ]
}

MIGRATED_REFERRAL = {
    "source_reference": "API5-TRACKER-0001",
    "source_agency": "sheffield-schools",
    "received_at": "2023-05-10T09:30:00+01:00",
    "child": {"given_name": "Api", "family_name": "Five", "date_of_birth": "2008-02-11", "gender": "male"},
    "concern_types": ["criminal_exploitation"],
    "summary": "Loaded from the tracker.",
    "lawful_basis": {"basis": "consent"},
}

# (attempt, caller, method, path, body); paths name ids from the `ids` fixture.
ATTEMPTS = [
    # Referrals and children: referrers submit and read back; case workers work cases;
    # managers decide, close and merge; auditors read the audit trail.
    (
        "referrer starts screening",
        "school referrer",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        {"to": "screening"},
    ),
    (
        "practitioner allocates",
        "social worker",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        {"to": "allocated", "allocated_team": "Any team"},
    ),
    (
        "practitioner signposts",
        "social worker",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        {"to": "signposted", "signposted_to": "community-youth-team"},
    ),
    (
        # Historic referrals are loaded by admins of a migrates_records agency only.
        "hub manager loads a historic referral",
        "social care manager",
        "POST",
        "/api/v1/referrals/migrated",
        MIGRATED_REFERRAL,
    ),
    (
        "admin of an agency without migrates_records loads a historic referral",
        "social care admin",
        "POST",
        "/api/v1/referrals/migrated",
        MIGRATED_REFERRAL,
    ),
    (
        "practitioner closes",
        "social worker",
        "POST",
        "/api/v1/referrals/{referral}/transitions",
        {"to": "closed", "reason": "Done"},
    ),
    (
        "referrer records first contact",
        "school referrer",
        "POST",
        "/api/v1/referrals/{referral}/first-contact",
        {"contacted_at": "2026-11-25T10:00:00Z"},
    ),
    (
        "referrer lists overdue decisions",
        "school referrer",
        "GET",
        "/api/v1/referrals/overdue-decisions",
        None,
    ),
    (
        "practitioner merges children",
        "social worker",
        "POST",
        "/api/v1/children/{child}/merge",
        {"duplicate_id": str(uuid.uuid4()), "reason": "Same child"},
    ),
    ("referrer lists children", "school referrer", "GET", "/api/v1/children", None),
    ("referrer registers a child", "school referrer", "POST", "/api/v1/children", REFERRAL_BODY["child"]),
    (
        "referrer edits a child",
        "school referrer",
        "PATCH",
        "/api/v1/children/{child}",
        {"school": "Elsewhere"},
    ),
    (
        "referrer reports a child missing",
        "school referrer",
        "POST",
        "/api/v1/missing-episodes",
        {"child_id": "{child}", "reported_missing_at": "2026-11-20T21:00:00Z"},
    ),
    (
        "referrer reads third-party information",
        "school referrer",
        "GET",
        "/api/v1/third-party-information",
        None,
    ),
    (
        "school records a person of concern",
        "school practitioner",
        "POST",
        "/api/v1/persons-of-concern",
        {"alias": "Shadz", "gender": "male"},
    ),
    ("health reads persons of concern", "health analyst", "GET", "/api/v1/persons-of-concern", None),
    ("analyst reads referrals", "health analyst", "GET", "/api/v1/referrals", None),
    ("admin reads referrals", "social care admin", "GET", "/api/v1/referrals", None),
    ("admin reads a child", "social care admin", "GET", "/api/v1/children/{child}", None),
    ("auditor submits a referral", "auditor", "POST", "/api/v1/referrals", REFERRAL_BODY),
    (
        "manager reads a child's access log",
        "social care manager",
        "GET",
        "/api/v1/children/{child}/access-log",
        None,
    ),
    (
        "admin verifies the audit chain",
        "social care admin",
        "GET",
        "/api/v1/audit/referral-service/verification",
        None,
    ),
    (
        "practitioner registers a webhook",
        "social worker",
        "POST",
        "/api/v1/webhooks/referral-service/endpoints",
        WEBHOOK,
    ),
    (
        "manager lists webhooks",
        "social care manager",
        "GET",
        "/api/v1/webhooks/referral-service/endpoints",
        None,
    ),
    # Risk: assessors assess, managers override, admins own the models.
    (
        "assessor overrides a level",
        "social worker",
        "POST",
        "/api/v1/risk/assessments/{assessment}/override",
        {"level": "low", "reason": "Lower it without authority."},
    ),
    (
        "referrer assesses a child",
        "school referrer",
        "POST",
        "/api/v1/risk/children/{child}/assessments",
        {"answers": [{"indicator_code": "x", "answer": "present"}]},
    ),
    ("referrer reads a child's risk", "school referrer", "GET", "/api/v1/risk/children/{child}", None),
    ("practitioner creates a risk model", "social worker", "POST", "/api/v1/risk/models", MODEL_BODY),
    (
        "manager replaces a risk model",
        "social care manager",
        "PUT",
        "/api/v1/risk/models/{model}",
        MODEL_BODY,
    ),
    (
        "manager asks for a risk model to be published",
        "social care manager",
        "POST",
        "/api/v1/risk/models/{model}/approval-request",
        None,
    ),
    (
        "manager approves a risk model",
        "social care manager",
        "POST",
        "/api/v1/risk/models/{model}/approval",
        None,
    ),
    # The partnership agreement: a role alone is not enough without the agency's capacity.
    (
        "youth club admin creates a risk model",
        "youth admin",
        "POST",
        "/api/v1/risk/models",
        MODEL_BODY,
    ),
    (
        "social care admin (no governs_risk_models) asks to publish",
        "social care admin",
        "POST",
        "/api/v1/risk/models/{model}/approval-request",
        None,
    ),
    (
        "voluntary-sector manager runs an impact analysis",
        "charity manager",
        "GET",
        "/api/v1/risk/models/{model}/impact",
        None,
    ),
    (
        "education manager merges two children",
        "school manager",
        "POST",
        "/api/v1/children/{child}/merge",
        {"duplicate_id": "00000000-0000-4000-8000-000000000000", "reason": "Same child."},
    ),
    (
        "roleless token reads referral figures",
        "roleless school token",
        "GET",
        "/api/v1/stats/referrals",
        None,
    ),
    ("roleless token reads risk figures", "roleless school token", "GET", "/api/v1/risk/stats/levels", None),
    (
        "roleless token reads meeting action figures",
        "roleless school token",
        "GET",
        "/api/v1/meetings/stats/actions",
        None,
    ),
    (
        "voluntary-sector auditor verifies the referral audit chain",
        "charity auditor",
        "GET",
        "/api/v1/audit/referral-service/verification",
        None,
    ),
    (
        "practitioner drafts a new version",
        "social worker",
        "POST",
        "/api/v1/risk/models/{model}/new-version",
        None,
    ),
    (
        "practitioner runs an impact analysis",
        "social worker",
        "GET",
        "/api/v1/risk/models/{model}/impact",
        None,
    ),
    ("referrer lists risk models", "school referrer", "GET", "/api/v1/risk/models", None),
    (
        "manager registers a risk webhook",
        "social care manager",
        "POST",
        "/api/v1/webhooks/risk-service/endpoints",
        RISK_WEBHOOK,
    ),
    (
        "practitioner reads a risk access log",
        "social worker",
        "GET",
        "/api/v1/risk/children/{child}/access-log",
        None,
    ),
    (
        "admin verifies the risk audit chain",
        "social care admin",
        "GET",
        "/api/v1/audit/risk-service/verification",
        None,
    ),
    # Meetings: statutory partners' case workers read; their coordinators run meetings.
    (
        "practitioner creates a series",
        "social worker",
        "POST",
        "/api/v1/meetings/series",
        {
            "meeting_type": "MACE",
            "title": "Mine",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": "2027-11-03T10:00:00",
            "rrule": "FREQ=WEEKLY",
        },
    ),
    (
        "school coordinator creates a series",
        "school coordinator",
        "POST",
        "/api/v1/meetings/series",
        {
            "meeting_type": "MACE",
            "title": "Mine",
            "chair_agency": "sheffield-schools",
            "first_meeting_local": "2027-11-03T10:00:00",
            "rrule": "FREQ=WEEKLY",
        },
    ),
    ("referrer lists series", "school referrer", "GET", "/api/v1/meetings/series", None),
    (
        "practitioner records attendance",
        "social worker",
        "PUT",
        "/api/v1/meetings/occurrences/{occurrence}/attendance",
        ATTENDANCE,
    ),
    (
        "practitioner builds an agenda",
        "social worker",
        "POST",
        "/api/v1/meetings/occurrences/{occurrence}/agenda/generate",
        None,
    ),
    (
        "practitioner adds an agenda item",
        "social worker",
        "POST",
        "/api/v1/meetings/occurrences/{occurrence}/agenda/items",
        {"kind": "child", "title": "Mine", "child_ids": [], "reason": "Because"},
    ),
    (
        "practitioner cancels a meeting",
        "social worker",
        "POST",
        "/api/v1/meetings/occurrences/{occurrence}/cancel",
        {"reason": "Not mine to cancel"},
    ),
    (
        "school coordinator writes minutes",
        "school coordinator",
        "PATCH",
        "/api/v1/meetings/agenda-items/{item}",
        {"minutes": "Rewritten"},
    ),
    (
        "school coordinator records a decision",
        "school coordinator",
        "POST",
        "/api/v1/meetings/agenda-items/{item}/decisions",
        {"text": "Decided by a school"},
    ),
    (
        "school coordinator agrees an action",
        "school coordinator",
        "POST",
        "/api/v1/meetings/agenda-items/{item}/actions",
        {"description": "Do it", "owner_agency": "sheffield-schools", "due_date": "2027-12-01"},
    ),
    (
        # A case worker reads the decisions of meetings their agency is invited to (404
        # otherwise, see API1); a referrer never does.
        "school referrer reads decisions",
        "school referrer",
        "GET",
        "/api/v1/meetings/agenda-items/{item}/decisions",
        None,
    ),
    (
        "school practitioner lists third-party information",
        "school practitioner",
        "GET",
        "/api/v1/third-party-information",
        None,
    ),
    (
        "manager verifies the meetings audit chain",
        "social care manager",
        "GET",
        "/api/v1/audit/meetings-service/verification",
        None,
    ),
]


def fill(template: object, ids: Ids) -> object:
    """The template with `{referral}`, `{child}`... replaced by the records' ids."""
    if isinstance(template, str):
        return template.format(**vars(ids)) if "{" in template else template
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, ids) for v in template]
    return template


@pytest.mark.parametrize(
    ("caller", "method", "path", "body"), [a[1:] for a in ATTEMPTS], ids=[a[0] for a in ATTEMPTS]
)
@pytest.mark.parametrize("route", ["gateway", "direct"])
def test_an_operation_beyond_the_callers_roles_is_403(
    stack, http, as_, ids, problem, caller, method, path, body, route
):
    """Through the gateway, and straight to the service that owns the path (no back door)."""
    target = str(fill(path, ids))
    upstream = upstream_for(target)
    assert upstream is not None, target
    base = stack.config.gateway_url if route == "gateway" else stack.config.url_of(upstream.value)
    headers = {**as_(caller), "If-Match": '"1"'}
    answer = http.request(method, base + target, headers=headers, json=fill(body, ids))
    problem(answer, 403)


def test_none_of_the_refused_operations_changed_anything(gateway, as_, ids):
    # Runs after the table (file order): the records are as they were made.
    worker = as_("social worker")
    referral = gateway.get(f"/api/v1/referrals/{ids.referral}", headers=worker).json()
    assert (referral["status"], referral["version"], referral["first_contact_at"]) == ("received", 1, None)
    assessment = gateway.get(f"/api/v1/risk/assessments/{ids.assessment}", headers=worker).json()
    assert assessment["override_reason"] is None
    model = gateway.get(f"/api/v1/risk/models/{ids.model}", headers=worker).json()
    assert model["name"] != MODEL_BODY["name"]
    assert "Attacker's model" not in gateway.get("/api/v1/risk/models", headers=worker).text
    item = gateway.get(f"/api/v1/meetings/occurrences/{ids.occurrence}/agenda", headers=worker).json()
    assert [(i["id"], i["minutes"]) for i in item["items"]] == [(ids.item, None)]
    assert gateway.get(f"/api/v1/meetings/agenda-items/{ids.item}/decisions", headers=worker).json() == {
        "items": [],
        "next_cursor": None,
    }
    occurrence = gateway.get(f"/api/v1/meetings/occurrences/{ids.occurrence}", headers=worker).json()
    assert occurrence["status"] == "scheduled"


@pytest.mark.parametrize("override", ["X-HTTP-Method-Override", "X-Method-Override", "X-HTTP-Method"])
def test_a_method_override_header_does_not_turn_a_read_into_a_write(gateway, as_, ids, problem, override):
    worker = as_("social care manager")
    for method, path, wanted in (
        ("GET", f"/api/v1/referrals/{ids.referral}/transitions", "POST"),
        ("POST", f"/api/v1/children/{ids.child}", "PATCH"),
        ("GET", f"/api/v1/children/{ids.child}/merge", "POST"),
    ):
        answer = gateway.request(method, path, headers={**worker, override: wanted})
        problem(answer, 405)
