"""The acceptance story of a child's support: a child a school referred and the hub
allocated is offered post-abuse support by the hub from the commissioned service, which
starts 19 days later; the provider's keyworker sees the child and the support, an agency
never linked to the child sees nothing; the risk level at the start and the end comes from
the risk service's events; contacts at a secure unit are recorded without any address; the
events say ids and kinds only; retries and stale writes change nothing twice; and the
child's disposal takes its support with it."""

from __future__ import annotations

import uuid

from referral_scenarios import HUB_MANAGER, bearer, screen_and_decide, submit
from retention_scenarios import LONG_AFTER, as_of, count, events_of, run
from sqlalchemy import select
from support_scenarios import (
    ANALYST,
    HUB_WORKER,
    KEYWORKER,
    POST_ABUSE,
    YOUNG_CARERS_WORKER,
    at,
    deliver,
    end,
    offer,
    offered,
    read,
    record_contact,
    risk_assessed,
    start,
)

from referral_api.database import AUDIT
from referral_api.support.models import AssessedRiskLevel, Support, SupportContact
from safeguarding_kit.idempotency import HEADER


def a_referred_and_allocated_child(client, tokens, referral_clock) -> str:
    referral_clock.now = at("2026-09-28T10:00:00+00:00")
    referral = submit(client, tokens)  # the school's designated safeguarding lead
    screen_and_decide(client, tokens, referral, "allocated")
    return str(referral["child_id"])


def test_post_abuse_support_offered_by_the_hub_starts_19_days_later_and_ends_with_risk_reduced(
    client, tokens, referral_clock, support_clock
):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    assert deliver(client, risk_assessed(child_id, "high", "2026-09-30T12:00:00+00:00")) == 204

    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    assert support["provider"] == {"service": "post-abuse-support", "agency": "safe-space-sheffield"}
    assert (support["status"], support["offered_by"], support["waiting_days"]) == (
        "offered",
        "sheffield-social-care",
        None,
    )
    assert support["requested_at"] == "2026-10-01T09:30:00Z"

    support_clock.now = at("2026-10-20T15:30:00+00:00")
    started = start(client, tokens, support, "2026-10-20T15:00:00+00:00")
    assert started.status_code == 200, started.text
    support = started.json()
    assert (support["status"], support["waiting_days"], support["risk_level_at_start"]) == (
        "active",
        19,
        "high",
    )
    assert started.headers["etag"] == f'"{support["version"]}"'

    support_clock.now = at("2026-11-03T17:00:00+00:00")
    contact = record_contact(client, tokens, support, setting="secure_unit", engagement="engaged")
    assert contact.status_code == 201, contact.text
    assert contact.headers["location"] == f"/api/v1/support/{support['id']}/contacts/{contact.json()['id']}"
    assert {k: contact.json()[k] for k in ("contacted_on", "setting", "engagement", "recorded_by")} == {
        "contacted_on": "2026-11-03",
        "setting": "secure_unit",
        "engagement": "engaged",
        "recorded_by": "safe-space-sheffield",
    }

    support_clock.now = at("2026-11-28T16:30:00+00:00")
    ended = end(client, tokens, support, "2026-11-28T16:00:00+00:00", "goals_met")
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("ended", "goals_met")
    assert ended.json()["risk_level_at_end"] == "high"  # the reassessment is not heard of yet

    # The reassessment on 15 November reaches this service late (the risk service was down).
    assert deliver(client, risk_assessed(child_id, "medium", "2026-11-15T10:00:00+00:00")) == 204
    now = read(client, tokens, f"/api/v1/support/{support['id']}", KEYWORKER).json()
    assert (now["risk_level_at_start"], now["risk_level_at_end"]) == ("high", "medium")

    analyst = read(client, tokens, "/api/v1/stats/support/waiting-times?period=2026-10", ANALYST).json()
    [post_abuse] = [p for p in analyst["providers"] if p["provider"] == "post-abuse-support"]
    assert (post_abuse["started"]["count"], post_abuse["median_days"], post_abuse["p90_days"]) == (1, 19, 19)
    assert analyst["exact"] is True
    # Anyone else: one support is a count of 1, shown as c, and its wait is one child's own.
    protected = read(client, tokens, "/api/v1/stats/support/waiting-times?period=2026-10", HUB_WORKER).json()
    [post_abuse] = [p for p in protected["providers"] if p["provider"] == "post-abuse-support"]
    assert post_abuse == {
        "provider": "post-abuse-support",
        "started": {
            "key": {"provider": "post-abuse-support"},
            "count": None,
            "suppressed": "primary",
            "display": "c",
        },
        "median_days": None,
        "p90_days": None,
    }
    assert protected["all_providers"]["median_days"] is None
    assert protected["all_providers"]["started"]["display"] == "c"

    movement = read(client, tokens, "/api/v1/stats/support/risk-movement?period=2026-11", ANALYST).json()
    moved = {
        (c["key"]["risk_level_at_start"], c["key"]["risk_level_at_end"]): c["count"]
        for c in movement["cells"]
    }
    assert moved[("high", "medium")] == 1
    assert sum(moved.values()) == 1


def test_the_providers_keyworker_sees_the_child_and_its_support_and_an_unlinked_agency_sees_nothing(
    client, tokens, referral_clock
):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    support = offered(client, tokens, child_id)
    paths = [
        f"/api/v1/children/{child_id}",
        f"/api/v1/children/{child_id}/support",
        f"/api/v1/support/{support['id']}",
    ]
    for path in paths:
        assert read(client, tokens, path, KEYWORKER).status_code == 200, path
    [listed] = read(client, tokens, "/api/v1/support?status=offered", KEYWORKER).json()["items"]
    assert listed["id"] == support["id"]

    for path in paths:
        refused = read(client, tokens, path, YOUNG_CARERS_WORKER)
        assert refused.status_code == 404, path
        assert refused.headers["content-type"] == "application/problem+json"
    assert read(client, tokens, "/api/v1/support", YOUNG_CARERS_WORKER).json()["items"] == []
    # Nor may they record anything of it, and they learn nothing by trying.
    assert start(client, tokens, support, "2026-10-20T15:00:00+00:00", YOUNG_CARERS_WORKER).status_code == 404

    log = AUDIT.log
    with client.app.state.database.sessions() as session:
        refusals = session.execute(
            select(log.c.resource_type, log.c.actor_agency).where(
                log.c.child_id == uuid.UUID(child_id), log.c.outcome == "denied"
            )
        ).all()
    assert {(r.resource_type, r.actor_agency) for r in refusals} == {
        ("child", "sheffield-young-carers"),
        ("support", "sheffield-young-carers"),
    }


def test_the_provider_agency_is_linked_to_the_child_and_the_risk_service_is_told(
    client, tokens, referral_clock
):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    offered(client, tokens, child_id)
    linked = [e["data"] for e in events_of(client, "child.agency_linked") if e["subject"] == child_id]
    assert {"child_id": child_id, "agency": "safe-space-sheffield", "reason": "support"} in linked


def test_support_events_carry_ids_and_kinds_only(client, tokens, referral_clock, support_clock):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    support_clock.now = at("2026-10-21T09:30:00+00:00")
    support = start(client, tokens, support, "2026-10-20T15:00:00+00:00").json()
    assert end(client, tokens, support, "2026-10-21T09:00:00+00:00", "moved_away").status_code == 200

    provider = {"service": "post-abuse-support", "agency": "safe-space-sheffield"}
    expected = {"support_id": support["id"], "child_id": child_id, "kind": "therapeutic_post_abuse_support"}
    for event_type in ("support.offered", "support.started"):
        assert events_of(client, event_type) == [
            {"subject": child_id, "data": {**expected, "provider": provider}}
        ]
    assert events_of(client, "support.ended") == [
        {"subject": child_id, "data": {**expected, "provider": provider, "end_reason": "moved_away"}}
    ]


def test_a_contact_has_no_address_and_one_sent_is_refused(client, tokens, referral_clock, support_clock):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    support_clock.now = at("2026-11-04T09:00:00+00:00")
    support = start(client, tokens, support, "2026-10-20T15:00:00+00:00").json()

    refused = record_contact(client, tokens, support, address="Flat 2, 14 Example Road, Sheffield S1 1AA")
    assert refused.status_code == 422
    assert "#/address" in {e.get("pointer") for e in refused.json()["errors"]}
    assert not [c for c in SupportContact.__table__.columns if "address" in c.name or "postcode" in c.name]
    assert count(client, SupportContact) == 0


def test_a_retried_offer_with_one_idempotency_key_makes_one_support(client, tokens, referral_clock):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    headers = {**bearer(tokens, HUB_WORKER), HEADER: "mace-2026-10-01-jordan-post-abuse"}
    first = client.post(f"/api/v1/children/{child_id}/support", json=POST_ABUSE, headers=headers)
    retry = client.post(f"/api/v1/children/{child_id}/support", json=POST_ABUSE, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert count(client, Support) == 1
    assert len(events_of(client, "support.offered")) == 1


def test_a_stale_if_match_is_412_and_changes_nothing(client, tokens, referral_clock, support_clock):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    first_read = offered(client, tokens, child_id)
    support_clock.now = at("2026-10-21T09:30:00+00:00")
    assert start(client, tokens, first_read, "2026-10-20T15:00:00+00:00").status_code == 200

    stale = end(client, tokens, first_read, "2026-10-21T09:00:00+00:00", "child_declined")
    assert stale.status_code == 412
    assert stale.json()["type"].endswith("stale-write")
    now = read(client, tokens, f"/api/v1/support/{first_read['id']}", KEYWORKER).json()
    assert (now["status"], now["end_reason"]) == ("active", None)
    assert events_of(client, "support.ended") == []


def test_the_childs_disposal_removes_its_support_contacts_and_assessed_levels(
    client, tokens, referral_clock, support_clock, monkeypatch
):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    assert deliver(client, risk_assessed(child_id, "high", "2026-09-30T12:00:00+00:00")) == 204
    support_clock.now = at("2026-10-01T09:30:00+00:00")
    support = offered(client, tokens, child_id)
    support_clock.now = at("2026-11-04T09:00:00+00:00")
    support = start(client, tokens, support, "2026-10-20T15:00:00+00:00").json()
    assert record_contact(client, tokens, support).status_code == 201
    assert (count(client, Support), count(client, SupportContact), count(client, AssessedRiskLevel)) == (
        1,
        1,
        1,
    )

    as_of(monkeypatch, LONG_AFTER)
    disposed = run(client, tokens, dry_run=False)

    assert child_id in {r["subject_id"] for r in disposed["records"]}
    assert (count(client, Support), count(client, SupportContact), count(client, AssessedRiskLevel)) == (
        0,
        0,
        0,
    )
    assert read(client, tokens, f"/api/v1/support/{support['id']}", HUB_MANAGER).status_code == 404
    # A late assessment of the disposed child is passed over, not an error.
    assert deliver(client, risk_assessed(child_id, "low", "2026-12-01T10:00:00+00:00")) == 204
    assert count(client, AssessedRiskLevel) == 0


def test_an_offer_to_a_service_the_agreement_does_not_list_is_422_naming_the_field(
    client, tokens, referral_clock
):
    child_id = a_referred_and_allocated_child(client, tokens, referral_clock)
    unknown = offer(
        client, tokens, child_id, {"kind": "group_work", "provider": {"service": "knife-crime-group"}}
    )
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("unknown-service")
    assert [e["pointer"] for e in unknown.json()["errors"]] == ["#/provider/service"]
    other_agency = offer(
        client,
        tokens,
        child_id,
        {
            "kind": "therapeutic_post_abuse_support",
            "provider": {"service": "post-abuse-support", "agency": "sheffield-youth"},
        },
    )
    assert other_agency.status_code == 422
    assert [e["pointer"] for e in other_agency.json()["errors"]] == ["#/provider/agency"]
    neither = offer(client, tokens, child_id, {"kind": "advocacy", "provider": {}})
    assert neither.status_code == 422
    assert [e["pointer"] for e in neither.json()["errors"]] == ["#/provider"]
    assert count(client, Support) == 0
