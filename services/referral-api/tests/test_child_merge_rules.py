"""Merging two children's records is for managers of the hub's own teams (`all_cases`),
and a merge always says why: above all when the records' date of birth or family name
differ, where two children could be made one."""

from __future__ import annotations

import pytest
from referral_scenarios import AUDITOR, HUB_MANAGER, PROBLEM, SOCIAL_WORKER, bearer, child_details

EDUCATION_MANAGER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["manager"]}
HEALTH_HUB_MANAGER = {"agency": "sheffield-health", "agency_type": "health", "roles": ["manager"]}
GP_MANAGER = {"agency": "norfolk-park-medical-practice", "agency_type": "health", "roles": ["manager"]}
COUNCIL_MANAGER = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["manager"]}


def register(client, tokens, who=SOCIAL_WORKER, **details) -> dict:
    answer = client.post("/api/v1/children", json=child_details(**details), headers=bearer(tokens, who))
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def merge(client, tokens, keep: dict, duplicate: dict, who=HUB_MANAGER, **body):
    return client.post(
        f"/api/v1/children/{keep['id']}/merge",
        json={"duplicate_id": duplicate["id"], **body},
        headers={**bearer(tokens, who), "If-Match": f'"{keep["version"]}"'},
    )


@pytest.mark.parametrize(
    "who", [EDUCATION_MANAGER, GP_MANAGER, COUNCIL_MANAGER], ids=["education", "gp-surgery", "council"]
)
def test_education_manager_cannot_merge_children(client, tokens, who):
    # Both records were registered by the caller's own agency, so it can see them both.
    keep = register(client, tokens, who)
    duplicate = register(client, tokens, who, given_name="Jordon")
    refused = merge(client, tokens, keep, duplicate, who, reason="Same child, spelling error.")
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "`all_cases`" in refused.json()["detail"]
    still_two = client.get(f"/api/v1/children/{duplicate['id']}", headers=bearer(tokens, who))
    assert still_two.json()["merged_into_id"] is None


def test_a_manager_of_a_hub_team_merges_children(client, tokens):
    keep = register(client, tokens)
    duplicate = register(client, tokens, given_name="Jordon")
    merged = merge(client, tokens, keep, duplicate, HEALTH_HUB_MANAGER, reason="Same child, spelling error.")
    assert merged.status_code == 200, merged.text


@pytest.mark.parametrize(
    ("difference", "field"),
    [({"date_of_birth": "2011-04-13"}, "date_of_birth"), ({"family_name": "Sample"}, "family_name")],
    ids=["date_of_birth", "family_name"],
)
def test_merge_of_records_with_different_dates_of_birth_needs_a_reason(client, tokens, difference, field):
    keep = register(client, tokens)
    duplicate = register(client, tokens, **difference)
    for without_reason in ({}, {"reason": "     "}):
        refused = merge(client, tokens, keep, duplicate, **without_reason)
        assert refused.status_code == 422, refused.text
        assert [e["pointer"] for e in refused.json()["errors"]] == ["#/reason"]

    reason = "Same child: GP confirmed the birth date was mistyped by the school."
    merged = merge(client, tokens, keep, duplicate, reason=reason)
    assert merged.status_code == 200, merged.text

    for record, direction in ((keep, "from"), (duplicate, "into")):
        log = client.get(f"/api/v1/children/{record['id']}/access-log", headers=bearer(tokens, AUDITOR))
        [entry] = [e for e in log.json()["items"] if e["action"] == "merge"]
        assert entry["detail"].startswith(direction)
        assert f"differs:{field}" in entry["detail"]
        assert entry["detail"].endswith(f"reason:{reason}")


def test_a_long_merge_reason_is_cut_to_fit_the_audit_record(client, tokens):
    keep = register(client, tokens)
    duplicate = register(client, tokens, given_name="Jordon")
    merged = merge(client, tokens, keep, duplicate, reason="Confirmed with the GP and the school. " * 20)
    assert merged.status_code == 200, merged.text
    log = client.get(f"/api/v1/children/{keep['id']}/access-log", headers=bearer(tokens, AUDITOR))
    [entry] = [e for e in log.json()["items"] if e["action"] == "merge"]
    assert len(entry["detail"]) == 255
    assert entry["detail"].endswith("\u2026")
