"""OWASP API6:2023 Unrestricted access to sensitive business flows: the referral and
information flows used for something other than their purpose. Retry keys reused to
swap a referral's content or to fetch another agency's referral; the informant form
used to find out whether the hub knows a child; child registration used to open a
record from an NHS number alone.

How fast a client may repeat a flow is API4's (the gateway's per-client rate limits).
"""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.e2e


def test_the_same_idempotency_key_with_another_body_is_refused_and_the_first_referral_stands(
    gateway, as_, new, problem
):
    school = as_("school referrer")
    key = {"Idempotency-Key": f"owasp-{uuid.uuid4()}"}
    first_body = new.referral()
    first = gateway.post("/api/v1/referrals", headers={**school, **key}, json=first_body)
    assert first.status_code == 201, first.text
    swapped = {**first_body, "summary": "A different account of events.", "urgency": "urgent"}
    refused = problem(gateway.post("/api/v1/referrals", headers={**school, **key}, json=swapped), 422)
    assert refused["type"] == "urn:safeguarding:problem:idempotency-key-reused"
    retry = gateway.post("/api/v1/referrals", headers={**school, **key}, json=first_body)
    assert (retry.status_code, retry.json()) == (201, first.json())
    stored = gateway.get(f"/api/v1/referrals/{first.json()['id']}", headers=school).json()
    assert (stored["summary"], stored["urgency"]) == (first_body["summary"], "routine")


def test_another_agency_reusing_an_idempotency_key_gets_its_own_referral_never_the_first(gateway, as_, new):
    key = {"Idempotency-Key": f"owasp-{uuid.uuid4()}"}
    body = new.referral()
    school = gateway.post("/api/v1/referrals", headers={**as_("school referrer"), **key}, json=body)
    police = gateway.post("/api/v1/referrals", headers={**as_("police referrer"), **key}, json=body)
    assert (school.status_code, police.status_code) == (201, 201), police.text
    assert police.json()["id"] != school.json()["id"]
    assert police.json()["agency"] == "south-yorkshire-police"
    assert school.json()["id"] not in police.text


def test_another_agency_resending_a_source_reference_does_not_get_the_first_agencys_referral(
    gateway, as_, new
):
    reference = f"REF-{uuid.uuid4().hex}"
    body = new.referral(source_reference=reference)
    school = gateway.post("/api/v1/referrals", headers=as_("school referrer"), json=body)
    assert school.status_code == 201, school.text
    for caller, agency, resent in (
        ("police referrer", "south-yorkshire-police", body),
        ("faith referrer", "st-examples-church", {**body, "summary": "Something else entirely."}),
    ):
        other = gateway.post("/api/v1/referrals", headers=as_(caller), json=resent)
        assert other.status_code == 201, other.text
        assert other.json()["agency"] == agency
        assert school.json()["id"] not in other.text
        assert "sheffield-schools" not in other.text


def test_a_source_reference_resent_with_another_body_is_refused_and_shows_nothing_of_the_first(
    gateway, as_, new, problem
):
    school = as_("school referrer")
    body = new.referral(source_reference=f"REF-{uuid.uuid4().hex}")
    first = gateway.post("/api/v1/referrals", headers=school, json=body)
    assert first.status_code == 201, first.text
    changed = {**body, "summary": "Changed story."}
    refusals = [
        # The source reference is the retry key: another body under it is 422 ...
        problem(gateway.post("/api/v1/referrals", headers=school, json=changed), 422),
        # ... and under a fresh Idempotency-Key, the reference is still taken: 409.
        problem(
            gateway.post(
                "/api/v1/referrals",
                headers={**school, "Idempotency-Key": f"owasp-{uuid.uuid4()}"},
                json=changed,
            ),
            409,
        ),
    ]
    assert [r["type"].rsplit(":", 1)[1] for r in refusals] == [
        "idempotency-key-reused",
        "duplicate-source-reference",
    ]
    for refusal in refusals:
        for detail in (
            first.json()["id"],
            first.json()["child_id"],
            body["summary"],
            body["child"]["given_name"],
        ):
            assert detail not in str(refusal)
    stored = gateway.get(f"/api/v1/referrals/{first.json()['id']}", headers=school).json()
    assert stored["summary"] == body["summary"]


def test_third_party_information_cannot_tell_whether_the_hub_knows_a_child(gateway, as_, new, police_case):
    informant = as_("faith referrer")
    known = police_case.child
    about = {
        "known by NHS number": {"nhs_number": known["nhs_number"]},
        "unknown NHS number": {"nhs_number": new.nhs_number()},
        "known by names and birth date": {
            k: known[k] for k in ("given_name", "family_name", "date_of_birth")
        },
        "unknown names": {
            "given_name": "Nobody",
            "family_name": f"Known{uuid.uuid4().hex[:6]}",
            "date_of_birth": "2012-01-01",
        },
        "a description only": {"description": "About 14, seen at the station."},
    }
    answers = {}
    for case, child in about.items():
        answer = gateway.post(
            "/api/v1/third-party-information",
            headers=informant,
            json={
                "informant": {"name": "Alex Helper", "role": "Youth pastor"},
                "child": child,
                "information": "Seen late at night with adults who drive him away.",
                "concern_types": ["criminal_exploitation"],
                "lawful_basis": {"basis": "consent"},
            },
        )
        assert answer.status_code == 202, f"{case}: {answer.text}"
        answers[case] = answer
    shapes = {
        case: (
            a.status_code,
            sorted(a.json()),
            a.json()["message"],
            sorted(a.headers.keys() - {"x-request-id", "date", "server-timing", "content-length"}),
        )
        for case, a in answers.items()
    }
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    # The hub did match the known child: the receipts hide a difference that exists.
    hub = as_("social worker")
    matched = gateway.get(
        f"/api/v1/third-party-information/{answers['known by NHS number'].json()['receipt_id']}", headers=hub
    )
    unmatched = gateway.get(
        f"/api/v1/third-party-information/{answers['unknown NHS number'].json()['receipt_id']}", headers=hub
    )
    assert (matched.json()["child_id"], unmatched.json()["child_id"]) == (police_case.child_id, None)


def test_an_nhs_number_alone_opens_no_record_and_the_answer_shows_nothing_of_the_child(
    gateway, as_, new, police_case
):
    known = police_case.child
    guess = {
        "given_name": "Anyone",
        "family_name": "Else",
        "date_of_birth": "2012-02-02",
        "gender": "male",
        "nhs_number": known["nhs_number"],
    }
    # Outside the hub's own teams a known NHS number must come with the matching birth
    # date and family name, so a record is never opened, nor a referral attached, on the
    # strength of a number. Nor is the caller told the number is known (a 409 once did,
    # and with the family name the date of birth could then be guessed): the details are
    # registered as a new record, exactly as for an unknown number, for the hub to review.
    for caller, path, body in (
        ("school practitioner", "/api/v1/children", guess),
        ("school referrer", "/api/v1/referrals", new.referral(child=guess)),
    ):
        answer = gateway.post(path, headers=as_(caller), json=body)
        assert answer.status_code == 201, answer.text
        made = answer.json()
        assert made.get("child_id", made.get("id")) != police_case.child_id
        for detail in (
            police_case.child_id,
            known["given_name"],
            known["family_name"],
            known["date_of_birth"],
        ):
            assert detail not in answer.text, f"the answer showed {detail!r}"
    assert (
        gateway.get(
            f"/api/v1/children/{police_case.child_id}", headers=as_("school practitioner")
        ).status_code
        == 404
    )
    listed = gateway.get(
        "/api/v1/referrals", params={"child_id": police_case.child_id}, headers=as_("school referrer")
    )
    assert listed.json()["items"] == []
