"""The hub keeping one record per child: registration, duplicates, updates and merges."""

from __future__ import annotations

import pytest
from referral_scenarios import (
    HUB_MANAGER,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    YOUTH_WORKER,
    child_details,
    referral_body,
    submit,
)

from safeguarding_kit.testing import statements_sent


def register(client, tokens, who=SOCIAL_WORKER, **details):
    return client.post("/api/v1/children", json=child_details(**details), headers=tokens.headers(**who))


def test_a_child_with_a_known_nhs_number_is_the_existing_record(client, tokens):
    first = register(client, tokens, nhs_number="9434765919")
    again = register(client, tokens, nhs_number="943-476-5919", school="Another School")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["school"] == "Hillsborough Academy"


def test_same_names_and_birth_date_are_flagged_as_a_likely_duplicate(client, tokens):
    first = register(client, tokens).json()
    second = register(client, tokens, given_name="  jordan ", family_name="EXAMPLE").json()
    assert second["id"] != first["id"]
    assert second["possible_duplicate_ids"] == [first["id"]]


def test_manager_merges_two_records_without_losing_history(client, tokens):
    keep = register(client, tokens).json()
    duplicate = register(client, tokens, nhs_number="9434765919").json()
    body = referral_body(child=child_details(nhs_number="9434765919"))
    referral = client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL)).json()
    assert referral["child_id"] == duplicate["id"]

    merged = client.post(
        f"/api/v1/children/{keep['id']}/merge",
        json={"duplicate_id": duplicate["id"], "reason": "Same child, confirmed with GP"},
        headers={**tokens.headers(**HUB_MANAGER), "If-Match": '"1"'},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["nhs_number"] == "9434765919"
    assert merged.json()["referral_count"] == 1
    moved = client.get(f"/api/v1/referrals/{referral['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert moved["child_id"] == keep["id"]
    old = client.get(f"/api/v1/children/{duplicate['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert old["merged_into_id"] == keep["id"]


def test_a_practitioner_cannot_merge(client, tokens):
    a = register(client, tokens).json()
    b = register(client, tokens).json()
    response = client.post(
        f"/api/v1/children/{a['id']}/merge",
        json={"duplicate_id": b["id"], "reason": "same kid"},
        headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": '"1"'},
    )
    assert response.status_code == 403


def test_stale_update_of_a_child_is_412_and_changes_nothing(client, tokens):
    child = register(client, tokens).json()
    url = f"/api/v1/children/{child['id']}"
    first = client.patch(
        url, json={"looked_after": True}, headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": '"1"'}
    )
    assert first.status_code == 200
    stale = client.patch(
        url, json={"school": "Elsewhere"}, headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    now = client.get(url, headers=tokens.headers(**SOCIAL_WORKER)).json()
    assert (now["looked_after"], now["school"]) == (True, "Hillsborough Academy")


def test_a_youth_worker_cannot_read_a_child_their_agency_is_not_linked_to(client, tokens):
    child = register(client, tokens).json()
    assert (
        client.get(f"/api/v1/children/{child['id']}", headers=tokens.headers(**YOUTH_WORKER)).status_code
        == 404
    )
    assert client.get("/api/v1/children", headers=tokens.headers(**YOUTH_WORKER)).json()["items"] == []


def test_a_referrer_cannot_read_children(client, tokens):
    child = register(client, tokens).json()
    assert client.get(f"/api/v1/children/{child['id']}", headers=tokens.headers(**SCHOOL)).status_code == 403


def test_wrong_nhs_checksum_and_future_birth_date_name_their_fields(client, tokens):
    response = register(client, tokens, nhs_number="9434765918", date_of_birth="2999-01-01")
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/nhs_number", "#/date_of_birth"}


@pytest.mark.parametrize("if_match", ["*", '"1", *'])
def test_if_match_star_is_refused_because_an_update_must_name_the_version_it_read(client, tokens, if_match):
    child = register(client, tokens).json()
    url = f"/api/v1/children/{child['id']}"
    response = client.patch(
        url, json={"school": "Elsewhere"}, headers={**tokens.headers(**SOCIAL_WORKER), "If-Match": if_match}
    )
    assert response.status_code == 428
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:safeguarding:problem:if-match-required"
    assert "specific ETag" in response.json()["detail"]
    now = client.get(url, headers=tokens.headers(**SOCIAL_WORKER))
    assert (now.json()["school"], now.headers["etag"]) == ("Hillsborough Academy", '"1"')


def test_the_children_list_says_of_each_child_what_their_record_says(client, tokens):
    """The hub's list of children gives each one's referral count and possible duplicates,
    as reading the child's record does."""
    first = register(client, tokens).json()
    register(client, tokens, given_name="  jordan ", family_name="EXAMPLE")
    submit(
        client,
        tokens,
        child=child_details(given_name="Amelia", family_name="Okafor", date_of_birth="2010-07-02"),
    )

    listed = client.get("/api/v1/children", params={"limit": 10}, headers=tokens.headers(**SOCIAL_WORKER))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 3
    for item in items:
        record = client.get(f"/api/v1/children/{item['id']}", headers=tokens.headers(**SOCIAL_WORKER)).json()
        assert (item["referral_count"], item["possible_duplicate_ids"]) == (
            record["referral_count"],
            record["possible_duplicate_ids"],
        )
    assert sum(item["referral_count"] for item in items) == 1  # Amelia's
    assert [first["id"]] in [item["possible_duplicate_ids"] for item in items]


def test_a_longer_page_of_children_takes_no_more_statements(client, tokens):
    """Each listed child's counts are asked for the whole page at once, not child by child.
    (Pages of two and four: one read's audit record is one statement on PostgreSQL, a
    group's two, whatever its size.)"""
    for n in range(4):
        register(client, tokens, given_name=f"Child{n}", date_of_birth=f"201{n}-01-01")

    def statements_listing(limit: int) -> int:
        with statements_sent(client) as statements:
            answer = client.get(
                "/api/v1/children", params={"limit": limit}, headers=tokens.headers(**SOCIAL_WORKER)
            )
        assert len(answer.json()["items"]) == limit
        return len(statements)

    assert statements_listing(2) == statements_listing(4)
