"""OWASP API3:2023 Broken object property level authorisation: a caller setting fields
that are the platform's to set (mass assignment), and answers showing a caller fields
they should not see (excessive data exposure).

Create and update bodies refuse unknown fields, so `status`, `agency`, ids, timestamps
or `merged_into_id` in a body are 422 naming the field, and nothing is written. A
referrer's answer holds what its agency sent, never what the hub knows of the child; a
third-party informant gets a receipt only; case workers outside the statutory partners
are not shown other children's ids; risk and meeting answers hold no child's name.
"""

from __future__ import annotations

import uuid

import pytest
from owasp_scenarios import one_meeting

pytestmark = pytest.mark.e2e

REFERRAL_FIELDS = {
    "status": "allocated",
    "agency": "south-yorkshire-police",
    "agency_type": "police",
    "id": "6f1c2d1e-8a4b-4c7e-9d2f-3b5a7c9e1f20",
    "received_at": "2020-01-01T00:00:00Z",
    "created_at": "2020-01-01T00:00:00Z",
    "decision_due_at": "2030-01-01T00:00:00Z",
    "decided_at": "2020-01-01T00:00:00Z",
    "allocation": {"team": "Anyone", "worker": None, "agency": "south-yorkshire-police"},
    "submitted_by": "someone-else",
    "previous_referrals": 0,
    "version": 7,
}
CHILD_FIELDS = {
    "id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
    "merged_into_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
    "created_by_agency": "south-yorkshire-police",
    "created_at": "2020-01-01T00:00:00Z",
    "referral_count": 0,
    "possible_duplicate_ids": [],
}


def test_platform_fields_in_a_referral_body_are_refused_and_nothing_is_written(gateway, as_, new, problem):
    school = as_("school referrer")
    clean = new.referral(source_reference=f"SCH-MASS-{uuid.uuid4().hex}")
    attempts = [({**clean, field: value}, f"#/{field}") for field, value in REFERRAL_FIELDS.items()]
    attempts += [
        ({**clean, "child": {**clean["child"], field: value}}, f"#/child/{field}")
        for field, value in CHILD_FIELDS.items()
    ]
    attempts.append(({**clean, "referrer": {**clean["referrer"], "agency": "police"}}, "#/referrer/agency"))
    for body, pointer in attempts:
        refused = problem(gateway.post("/api/v1/referrals", headers=school, json=body), 422)
        assert pointer in {e.get("pointer") for e in refused["errors"]}, refused
    # None of them was written: the same source reference is still free, and the platform
    # sets what the attempts tried to.
    created = gateway.post("/api/v1/referrals", headers=school, json=clean)
    assert created.status_code == 201, created.text
    referral = created.json()
    assert (referral["status"], referral["agency"], referral["agency_type"], referral["version"]) == (
        "received",
        "sheffield-schools",
        "education",
        1,
    )
    assert referral["id"] != REFERRAL_FIELDS["id"]
    assert referral["allocation"] is None


def test_platform_fields_in_update_and_create_bodies_everywhere_are_refused(
    gateway, as_, problem, school_case, police_case
):
    child = gateway.get(f"/api/v1/children/{school_case.child_id}", headers=as_("social worker"))
    referral = gateway.get(f"/api/v1/referrals/{school_case.referral_id}", headers=as_("social worker"))
    risk = gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=as_("social worker"))
    assessment = gateway.get(
        f"/api/v1/risk/assessments/{police_case.assessment_id}", headers=as_("social worker")
    )
    answers = [{"indicator_code": "missing_repeat", "answer": "present"}]
    attempts = [
        # (caller, method, path, If-Match, body, the field that must be refused)
        *[
            (
                "social worker",
                "PATCH",
                f"/api/v1/children/{school_case.child_id}",
                child,
                {field: value},
                field,
            )
            for field, value in {
                **CHILD_FIELDS,
                "nhs_number": "9434765919",
                "date_of_birth": "2001-01-01",
                "version": 99,
                "updated_at": "2020-01-01T00:00:00Z",
            }.items()
        ],
        *[
            (
                "social worker",
                "POST",
                f"/api/v1/referrals/{school_case.referral_id}/transitions",
                referral,
                {"to": "screening", field: value},
                field,
            )
            for field, value in {
                "status": "closed",
                "agency": "x-y",
                "decided_at": "2020-01-01T00:00:00Z",
            }.items()
        ],
        *[
            (
                "police practitioner",
                "POST",
                "/api/v1/missing-episodes",
                None,
                {
                    "child_id": school_case.child_id,
                    "reported_missing_at": "2026-11-20T21:00:00Z",
                    field: value,
                },
                field,
            )
            for field, value in {
                "rhi_due_at": "2030-01-01T00:00:00Z",
                "reported_by_agency": "sheffield-schools",
                "found_at": "2026-11-21T21:00:00Z",
                "id": str(uuid.uuid4()),
            }.items()
        ],
        *[
            (
                "social worker",
                "POST",
                f"/api/v1/risk/children/{police_case.child_id}/assessments",
                risk,
                {"answers": answers, field: value},
                field,
            )
            for field, value in {
                "score": 0,
                "computed_level": "low",
                "final_level": "low",
                "assessed_agency": "sheffield-schools",
                "child_id": str(uuid.uuid4()),
                "override_reason": "none needed",
            }.items()
        ],
        *[
            (
                "social care manager",
                "POST",
                f"/api/v1/risk/assessments/{police_case.assessment_id}/override",
                assessment,
                {"level": "high", "reason": "Professional judgement differs.", field: value},
                field,
            )
            for field, value in {"computed_level": "high", "override_by": "someone-else"}.items()
        ],
        *[
            (
                "charity admin",
                "POST",
                "/api/v1/webhooks/referral-service/endpoints",
                None,
                {"url": "https://93.184.216.34/hooks", "event_types": ["referral.received"], field: value},
                field,
            )
            for field, value in {
                "agency": "south-yorkshire-police",
                "active": True,
                "id": str(uuid.uuid4()),
            }.items()
        ],
        (
            "faith referrer",
            "POST",
            "/api/v1/third-party-information",
            None,
            {
                "informant": {"name": "Alex Helper", "role": "Youth pastor"},
                "child": {"description": "About 14, seen at the station."},
                "information": "Seen late at night with adults.",
                "concern_types": ["criminal_exploitation"],
                "lawful_basis": {"basis": "consent"},
                "child_id": police_case.child_id,
            },
            "child_id",
        ),
    ]
    for caller, method, path, read, body, field in attempts:
        headers = as_(caller)
        if read is not None:
            headers["If-Match"] = read.headers["etag"]
        refused = problem(gateway.request(method, path, headers=headers, json=body), 422)
        assert f"#/{field}" in {e.get("pointer") for e in refused["errors"]}, (path, field, refused)
    # Nothing changed.
    assert (
        gateway.get(f"/api/v1/children/{school_case.child_id}", headers=as_("social worker")).json()
        == child.json()
    )
    after = gateway.get(f"/api/v1/referrals/{school_case.referral_id}", headers=as_("social worker")).json()
    assert (after["status"], after["version"]) == (referral.json()["status"], referral.json()["version"])
    assert (
        gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=as_("social worker")).json()[
            "assessment_id"
        ]
        == police_case.assessment_id
    )


def test_platform_fields_in_meeting_bodies_are_refused(gateway, as_, problem):
    coordinator = as_("coordinator")
    series = {
        "meeting_type": "MACE",
        "title": "OWASP MACE",
        "chair_agency": "sheffield-social-care",
        "first_meeting_local": "2027-09-01T10:00:00",
        "rrule": "FREQ=WEEKLY;BYDAY=WE;COUNT=1",
        "bank_holiday_rule": "keep",
    }
    for field, value in {
        "id": str(uuid.uuid4()),
        "created_by": "someone-else",
        "created_at": "2020-01-01T00:00:00Z",
    }.items():
        refused = problem(
            gateway.post("/api/v1/meetings/series", headers=coordinator, json={**series, field: value}), 422
        )
        assert f"#/{field}" in {e.get("pointer") for e in refused["errors"]}


def test_a_referrers_answer_holds_what_it_sent_never_what_the_hub_knows_of_the_child(gateway, as_, new):
    known = new.child(police_reference=f"SYP-SECRET-{uuid.uuid4().hex[:8]}", looked_after=True)
    first = gateway.post("/api/v1/referrals", headers=as_("police referrer"), json=new.referral(child=known))
    assert first.status_code == 201, first.text
    # The charity knows the child by the NHS number, date of birth and family name only.
    sent = {
        "given_name": "Jo",
        "family_name": known["family_name"],
        "date_of_birth": known["date_of_birth"],
        "gender": "female",
        "nhs_number": known["nhs_number"],
    }
    answer = gateway.post("/api/v1/referrals", headers=as_("faith referrer"), json=new.referral(child=sent))
    assert answer.status_code == 201, answer.text
    assert answer.json()["child_id"] == first.json()["child_id"]
    read_back = gateway.get(f"/api/v1/referrals/{answer.json()['id']}", headers=as_("faith referrer"))
    for body in (answer, read_back):
        assert "child" not in body.json()
        for secret in (known["given_name"], known["police_reference"], known["nhs_number"], "looked_after"):
            assert secret not in body.text, f"the referrer was shown {secret!r}"
    # Nor can the referrer read the child's record it is now linked to.
    assert (
        gateway.get(
            f"/api/v1/children/{answer.json()['child_id']}", headers=as_("faith referrer")
        ).status_code
        == 403
    )


def test_a_third_party_informant_gets_a_receipt_and_nothing_more(gateway, as_, police_case, problem):
    informant = as_("faith referrer")
    answer = gateway.post(
        "/api/v1/third-party-information",
        headers=informant,
        json={
            "informant": {"name": "Alex Helper", "role": "Youth pastor"},
            "child": {
                "given_name": police_case.child["given_name"],
                "family_name": police_case.child["family_name"],
                "nhs_number": police_case.child["nhs_number"],
            },
            "information": "Seen late at night outside the takeaway with adults.",
            "concern_types": ["criminal_exploitation"],
            "lawful_basis": {"basis": "consent"},
        },
    )
    assert answer.status_code == 202, answer.text
    assert set(answer.json()) == {"receipt_id", "received_at", "message"}
    assert police_case.child_id not in answer.text
    receipt = answer.json()["receipt_id"]
    problem(gateway.get(f"/api/v1/third-party-information/{receipt}", headers=informant), 403)
    problem(gateway.get("/api/v1/third-party-information", headers=informant), 403)
    # The hub sees it, matched to the child.
    hub = gateway.get(f"/api/v1/third-party-information/{receipt}", headers=as_("social worker"))
    assert hub.json()["child_id"] == police_case.child_id


def test_case_workers_outside_the_statutory_partners_are_not_shown_other_childrens_ids(
    gateway, as_, new, police_case
):
    same_person = {k: police_case.child[k] for k in ("given_name", "family_name", "date_of_birth", "gender")}
    by_school = gateway.post("/api/v1/children", headers=as_("school practitioner"), json=same_person)
    assert by_school.status_code == 201, by_school.text
    assert by_school.json()["possible_duplicate_ids"] == []
    assert police_case.child_id not in by_school.text
    # The hub is shown both, to merge them.
    by_hub = gateway.get(f"/api/v1/children/{by_school.json()['id']}", headers=as_("social worker"))
    assert police_case.child_id in by_hub.json()["possible_duplicate_ids"]


def test_risk_and_meeting_answers_hold_no_childs_name_or_identifiers(gateway, as_, police_case):
    worker, coordinator = as_("social worker"), as_("coordinator")
    occurrence = one_meeting(gateway, coordinator, "2027-10-06T10:00:00")
    agenda = gateway.post(f"/api/v1/meetings/occurrences/{occurrence}/agenda/generate", headers=coordinator)
    assert agenda.status_code == 200, agenda.text
    answers = {
        "risk": gateway.get(f"/api/v1/risk/children/{police_case.child_id}", headers=worker),
        "risk history": gateway.get(
            f"/api/v1/risk/children/{police_case.child_id}/assessments", headers=worker
        ),
        "assessment": gateway.get(f"/api/v1/risk/assessments/{police_case.assessment_id}", headers=worker),
        "risk list": gateway.get("/api/v1/risk/children", params={"limit": 100}, headers=worker),
        "agenda": agenda,
        "agenda read": gateway.get(f"/api/v1/meetings/occurrences/{occurrence}/agenda", headers=worker),
    }
    on_agenda, cursor = agenda.json()["items"], agenda.json()["next_cursor"]
    while cursor:  # the generated agenda's first page, then the rest through the read
        page = gateway.get(
            f"/api/v1/meetings/occurrences/{occurrence}/agenda",
            params={"limit": 100, "cursor": cursor},
            headers=coordinator,
        ).json()
        on_agenda, cursor = on_agenda + page["items"], page["next_cursor"]
    assert police_case.child_id in {c for item in on_agenda for c in item["child_ids"]}  # on it, by id
    child = police_case.child
    for what, answer in answers.items():
        assert answer.status_code == 200, f"{what}: {answer.text}"
        for identifying in (
            child["given_name"],
            child["family_name"],
            child["nhs_number"],
            child["date_of_birth"],
            child["police_reference"],
        ):
            assert identifying not in answer.text, f"the {what} answer names the child ({identifying})"
