"""Who may offer a child support, record its progress and read it: the hub offers; the
providing agency's case workers and the hub's record the start, contacts and end; anyone who
may see the child reads it (break-glass only to read); everyone else gets 404, and 403
where they may see the support but not change it."""

from __future__ import annotations

from referral_scenarios import SCHOOL, YOUTH_WORKER, bearer, submit
from sqlalchemy import select
from support_scenarios import (
    ANALYST,
    HUB_WORKER,
    KEYWORKER,
    at,
    offer,
    offered,
    read,
    record_contact,
    start,
)

from referral_api.database import AUDIT

SCHOOL_DSL = {**SCHOOL, "roles": ["practitioner"]}  # linked to the child by the referral it sent
HUB_ASSESSOR = {**HUB_WORKER, "roles": ["risk_assessor"]}
BREAK_GLASS_REASON = "Found at 02:00 in a hotel with two adults; out-of-hours duty worker planning tonight."


def a_referred_child(client, tokens) -> str:
    return str(submit(client, tokens)["child_id"])


def test_only_the_hubs_practitioners_and_managers_offer_support(client, tokens):
    child_id = a_referred_child(client, tokens)
    for who in (SCHOOL, SCHOOL_DSL, KEYWORKER, HUB_ASSESSOR, ANALYST):
        refused = offer(client, tokens, child_id, who=who)
        assert refused.status_code == 403, who
        assert "all_cases" in refused.json()["detail"]
    assert offer(client, tokens, child_id).status_code == 201


def test_an_offer_about_a_child_that_does_not_exist_is_404(client, tokens):
    missing = offer(client, tokens, "0b6c1f5e-8a53-4f7e-9d55-3c2a2f1e7a10")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("child-not-found")


def test_a_linked_school_reads_the_support_but_only_the_provider_or_the_hub_records_it(
    client, tokens, support_clock
):
    child_id = a_referred_child(client, tokens)
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    assert read(client, tokens, f"/api/v1/support/{support['id']}", SCHOOL_DSL).status_code == 200

    refused = start(client, tokens, support, "2026-10-20T15:00:00+00:00", SCHOOL_DSL)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("forbidden")
    log = AUDIT.log
    with client.app.state.database.sessions() as session:
        denied = session.execute(
            select(log.c.action, log.c.resource_id, log.c.actor_agency).where(log.c.outcome == "denied")
        ).all()
    assert [tuple(row) for row in denied] == [("start", support["id"], "sheffield-schools")]
    # A referrer is no case worker: the operation itself is refused.
    assert start(client, tokens, support, "2026-10-20T15:00:00+00:00", SCHOOL).status_code == 403

    support_clock.now = at("2026-10-01T11:00:00+00:00")
    started = start(client, tokens, support, "2026-10-01T10:00:00+00:00", HUB_WORKER)
    assert started.status_code == 200, started.text
    contact = record_contact(client, tokens, started.json(), HUB_WORKER, contacted_on="2026-10-01")
    assert contact.status_code == 201, contact.text
    assert read(client, tokens, f"/api/v1/support/{support['id']}/contacts", SCHOOL_DSL).status_code == 200


def test_support_from_an_agency_directly_links_that_agency_to_the_child(client, tokens):
    child_id = a_referred_child(client, tokens)
    assert read(client, tokens, f"/api/v1/children/{child_id}", YOUTH_WORKER).status_code == 404
    support = offered(
        client,
        tokens,
        child_id,
        {"kind": "one_to_one_exploitation_work", "provider": {"agency": "sheffield-youth"}},
    )
    assert support["provider"] == {"service": None, "agency": "sheffield-youth"}
    assert read(client, tokens, f"/api/v1/children/{child_id}", YOUTH_WORKER).status_code == 200
    assert start(client, tokens, support, support["requested_at"], YOUTH_WORKER).status_code == 200


def test_support_from_a_service_without_a_provider_is_recorded_by_the_hub(client, tokens):
    child_id = a_referred_child(client, tokens)
    support = offered(
        client, tokens, child_id, {"kind": "family_support", "provider": {"service": "early-help"}}
    )
    assert support["provider"] == {"service": "early-help", "agency": None}
    assert start(client, tokens, support, support["requested_at"], KEYWORKER).status_code == 404
    assert start(client, tokens, support, support["requested_at"], HUB_WORKER).status_code == 200


def test_break_glass_opens_a_childs_support_to_read_never_to_record(client, tokens):
    child_id = a_referred_child(client, tokens)
    support = offered(client, tokens, child_id)
    grant = client.post(
        f"/api/v1/children/{child_id}/break-glass",
        json={"reason": BREAK_GLASS_REASON},
        headers=bearer(tokens, YOUTH_WORKER),
    )
    assert grant.status_code == 201, grant.text
    assert read(client, tokens, f"/api/v1/children/{child_id}/support", YOUTH_WORKER).status_code == 200
    assert read(client, tokens, f"/api/v1/support/{support['id']}", YOUTH_WORKER).status_code == 200
    assert start(client, tokens, support, support["requested_at"], YOUTH_WORKER).status_code == 404


def test_a_provider_lists_the_support_it_provides_and_the_hub_lists_every_providers(
    client, tokens, support_clock
):
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    first, second = a_referred_child(client, tokens), a_referred_child(client, tokens)
    post_abuse = offered(client, tokens, first)
    youth = offered(
        client, tokens, second, {"kind": "group_work", "provider": {"service": "community-youth-team"}}
    )
    support_clock.now = at("2026-10-02T09:30:00+00:00")
    start(client, tokens, post_abuse, "2026-10-02T09:00:00+00:00")

    def listed(who, query=""):
        answer = read(client, tokens, f"/api/v1/support{query}", who)
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()["items"]]

    assert listed(KEYWORKER) == [post_abuse["id"]]
    assert listed(KEYWORKER, "?status=offered") == []
    assert listed(KEYWORKER, "?status=active") == [post_abuse["id"]]
    assert listed(YOUTH_WORKER) == [youth["id"]]
    assert set(listed(HUB_WORKER)) == {post_abuse["id"], youth["id"]}
    assert listed(HUB_WORKER, "?provider_agency=sheffield-youth") == [youth["id"]]
    assert listed(HUB_WORKER, "?service=post-abuse-support&kind=therapeutic_post_abuse_support") == [
        post_abuse["id"]
    ]
    # Another agency's caseload is not the keyworker's to see.
    assert listed(KEYWORKER, "?provider_agency=sheffield-youth") == []


def test_a_contact_before_the_start_is_409_and_one_after_today_is_422(client, tokens, support_clock):
    child_id = a_referred_child(client, tokens)
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    early = record_contact(client, tokens, support, contacted_on="2026-10-01")
    assert early.status_code == 409
    assert early.json()["type"].endswith("support-step-not-possible")

    support_clock.now = at("2026-10-21T09:30:00+00:00")
    started = start(client, tokens, support, "2026-10-20T15:00:00+00:00").json()
    late = record_contact(client, tokens, started, contacted_on="2026-10-22")
    assert late.status_code == 422
    assert [e["pointer"] for e in late.json()["errors"]] == ["#/contacted_on"]
    again = start(client, tokens, started, "2026-10-20T15:00:00+00:00")
    assert again.status_code == 409
