"""Auditors checking who read a child's record, and that nobody rewrote history."""

from __future__ import annotations

from referral_scenarios import AUDITOR, SOCIAL_WORKER, YOUTH_WORKER, referral_body
from sqlalchemy import create_engine, text

SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}


def test_every_read_of_a_child_by_a_practitioner_is_in_the_access_log(client, tokens):
    referral = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).json()
    child_id = referral["child_id"]
    worker = tokens.headers(**SOCIAL_WORKER, sub="worker-7")
    client.get(f"/api/v1/children/{child_id}", headers={**worker, "X-Request-ID": "read-child-0001"})
    client.get(f"/api/v1/referrals/{referral['id']}", headers=worker)
    client.get(f"/api/v1/children/{child_id}", headers=tokens.headers(**YOUTH_WORKER))  # refused: 404

    log = client.get(f"/api/v1/children/{child_id}/access-log", headers=tokens.headers(**AUDITOR))
    assert log.status_code == 200, log.text
    entries = log.json()["items"]
    reads = [(e["actor_sub"], e["action"], e["resource_type"], e["outcome"]) for e in entries]
    assert ("worker-7", "read", "child", "allowed") in reads
    assert ("worker-7", "read", "referral", "allowed") in reads
    assert ("worker@sheffield-youth", "read", "child", "denied") in reads
    assert any(e["request_id"] == "read-child-0001" for e in entries)


def test_only_auditors_read_the_access_log(client, tokens):
    referral = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).json()
    response = client.get(
        f"/api/v1/children/{referral['child_id']}/access-log", headers=tokens.headers(**SOCIAL_WORKER)
    )
    assert response.status_code == 403


def test_altering_an_audit_row_makes_verification_fail(client, tokens, database_url):
    client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL))
    client.get("/api/v1/referrals", headers=tokens.headers(**SOCIAL_WORKER))
    auditor = tokens.headers(**AUDITOR)
    intact = client.get("/api/v1/audit/referral-service/verification", headers=auditor).json()
    assert intact["ok"] is True
    assert intact["checked"] >= 2

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # someone covering their tracks
        conn.execute(text("UPDATE audit_log SET actor_sub = 'nobody' WHERE seq = 1"))
    engine.dispose()
    tampered = client.get("/api/v1/audit/referral-service/verification", headers=auditor).json()
    assert tampered["ok"] is False
    assert tampered["first_broken_seq"] == 1


def test_an_auditor_outside_information_governance_sees_only_their_own_agencys_people(client, tokens):
    """A voluntary-sector auditor once read any child's access log. An agency the agreement
    does not grant `audits` audits its own people only, and cannot verify the chain."""
    referral = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL)).json()
    child_id = referral["child_id"]
    client.get(f"/api/v1/children/{child_id}", headers=tokens.headers(**SOCIAL_WORKER, sub="hub-worker-1"))
    school_auditor = tokens.headers(agency="sheffield-schools", agency_type="education", roles=["auditor"])
    church_auditor = tokens.headers(agency="st-examples-church", agency_type="voluntary", roles=["auditor"])

    schools_view = client.get(f"/api/v1/children/{child_id}/access-log", headers=school_auditor)
    assert schools_view.status_code == 200, schools_view.text
    assert schools_view.json()["items"], "the school's own referral is in its log"
    assert {e["actor_agency"] for e in schools_view.json()["items"]} == {"sheffield-schools"}

    churchs_view = client.get(f"/api/v1/children/{child_id}/access-log", headers=church_auditor)
    assert churchs_view.status_code == 200
    assert churchs_view.json()["items"] == []

    governance = client.get(f"/api/v1/children/{child_id}/access-log", headers=tokens.headers(**AUDITOR))
    agencies = {e["actor_agency"] for e in governance.json()["items"]}
    assert agencies >= {"sheffield-schools", "sheffield-social-care"}

    for outsider in (school_auditor, church_auditor):
        verification = client.get("/api/v1/audit/referral-service/verification", headers=outsider)
        assert verification.status_code == 403
