"""Registering a child tells a referrer nothing about what the hub already knows (issue 13,
"found alongside"): a known NHS number with other details is accepted as a new record on
the hub's duplicate-review list, not answered 409; NHS numbers in other scripts' digits
are the same number; a reused source reference is the documented 409, never a 500; an
explicit null for a field that cannot be empty is 422 naming it."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from referral_scenarios import (
    AUDITOR,
    HUB_MANAGER,
    POLICE,
    PROBLEM,
    SOCIAL_WORKER,
    YOUTH_WORKER,
    child_details,
    referral_body,
)

KNOWN_NHS = "9434765919"
UNKNOWN_NHS = "9434765870"
FULL_WIDTH = "９４３４７６５９１９"  # noqa: RUF001 - the point of the test
ARABIC_INDIC = "٩٤٣٤٧٦٥٩١٩"


def refer(client, tokens, who, **child):
    return client.post(
        "/api/v1/referrals", json=referral_body(child=child_details(**child)), headers=tokens.headers(**who)
    )


def shape(answer: dict) -> dict:
    """What a referrer can compare between two answers: everything but the ids and times."""
    return {k: v for k, v in answer.items() if not k.endswith(("id", "_at")) and k != "version"}


def test_a_known_nhs_number_with_other_details_is_accepted_like_an_unknown_one(client, tokens):
    known = refer(client, tokens, POLICE, nhs_number=KNOWN_NHS).json()
    youth = tokens.headers(**YOUTH_WORKER)
    probes = {
        "other birth date": refer(
            client, tokens, YOUTH_WORKER, nhs_number=KNOWN_NHS, date_of_birth="2012-01-01"
        ),
        "other family name": refer(client, tokens, YOUTH_WORKER, nhs_number=KNOWN_NHS, family_name="Guess"),
        "unknown number": refer(
            client, tokens, YOUTH_WORKER, nhs_number=UNKNOWN_NHS, date_of_birth="2012-01-01"
        ),
    }
    for name, answer in probes.items():
        assert answer.status_code == 201, (name, answer.text)
    bodies = {name: answer.json() for name, answer in probes.items()}
    assert shape(bodies["other birth date"]) == shape(bodies["unknown number"])
    assert all(b["previous_referrals"] == 0 for b in bodies.values())
    assert all(b["child_id"] != known["child_id"] for b in bodies.values())
    # The referrer reads back the record it made, as it sent it, and not the known child.
    mine = client.get(f"/api/v1/children/{bodies['other birth date']['child_id']}", headers=youth).json()
    assert (mine["nhs_number"], mine["date_of_birth"]) == (KNOWN_NHS, "2012-01-01")
    assert mine["possible_duplicate_ids"] == []  # other children's ids are for the hub only
    assert client.get(f"/api/v1/children/{known['child_id']}", headers=youth).status_code == 404
    # The hub sees the possible match on its duplicate-review list, both ways.
    hub = tokens.headers(**SOCIAL_WORKER)
    new = client.get(f"/api/v1/children/{bodies['other birth date']['child_id']}", headers=hub).json()
    assert known["child_id"] in new["possible_duplicate_ids"]
    original = client.get(f"/api/v1/children/{known['child_id']}", headers=hub).json()
    assert {bodies["other birth date"]["child_id"], bodies["other family name"]["child_id"]} <= set(
        original["possible_duplicate_ids"]
    )


def test_registering_a_known_nhs_number_with_another_birth_date_is_201_and_audited(client, tokens):
    known = client.post(
        "/api/v1/children", json=child_details(nhs_number=KNOWN_NHS), headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    probe = client.post(
        "/api/v1/children",
        json=child_details(nhs_number=KNOWN_NHS, date_of_birth="2011-03-15"),
        headers=tokens.headers(**YOUTH_WORKER),
    )
    assert probe.status_code == 201, probe.text
    assert probe.json()["id"] != known["id"]
    assert probe.json()["date_of_birth"] == "2011-03-15"
    log = client.get(
        f"/api/v1/children/{probe.json()['id']}/access-log", headers=tokens.headers(**AUDITOR)
    ).json()["items"]
    assert [(e["action"], e["actor_agency"]) for e in log] == [("create", "sheffield-youth")]


def test_the_hub_merges_the_possible_match_and_the_nhs_number_stays_with_the_child(client, tokens):
    known = refer(client, tokens, POLICE, nhs_number=KNOWN_NHS).json()
    other = refer(client, tokens, YOUTH_WORKER, nhs_number=KNOWN_NHS, date_of_birth="2011-04-14").json()
    merged = client.post(
        f"/api/v1/children/{known['child_id']}/merge",
        json={"duplicate_id": other["child_id"], "reason": "Same child: date of birth mistyped by the club."},
        headers={**tokens.headers(**HUB_MANAGER), "If-Match": '"1"'},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["nhs_number"] == KNOWN_NHS
    assert merged.json()["referral_count"] == 2
    # The same details again now find the one surviving record.
    again = refer(client, tokens, POLICE, nhs_number=KNOWN_NHS).json()
    assert again["child_id"] == known["child_id"]


@pytest.mark.parametrize("written", [FULL_WIDTH, ARABIC_INDIC, "９４３ ４７６ ５９１９"])  # noqa: RUF001
def test_an_nhs_number_in_other_digits_is_the_same_child(client, tokens, written):
    hub = tokens.headers(**SOCIAL_WORKER)
    first = client.post("/api/v1/children", json=child_details(nhs_number=KNOWN_NHS), headers=hub)
    again = client.post("/api/v1/children", json=child_details(nhs_number=written), headers=hub)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["nhs_number"] == KNOWN_NHS


def test_an_nhs_number_in_other_digits_is_stored_in_ascii(client, tokens):
    made = client.post(
        "/api/v1/children",
        json=child_details(nhs_number=ARABIC_INDIC),
        headers=tokens.headers(**SOCIAL_WORKER),
    )
    assert made.status_code == 201, made.text
    assert made.json()["nhs_number"] == KNOWN_NHS
    wrong = client.post(
        "/api/v1/children",
        json=child_details(nhs_number="٩٤٣٤٧٦٥٩١٨"),  # the wrong check digit, in Arabic-Indic digits
        headers=tokens.headers(**SOCIAL_WORKER),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "#/nhs_number"


def test_a_reused_source_reference_for_a_new_child_is_the_documented_409(client, tokens):
    # Each request with its own Idempotency-Key: the source reference is then checked on its own.
    police = tokens.headers(**POLICE)
    first = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="SYP-REF-1"),
        headers={**police, "Idempotency-Key": "2f6a1c3e-0000-4000-8000-000000000001"},
    )
    assert first.status_code == 201, first.text
    reused = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="SYP-REF-1", child=child_details(given_name="Riley")),
        headers={**police, "Idempotency-Key": "2f6a1c3e-0000-4000-8000-000000000002"},
    )
    assert reused.status_code == 409, reused.text
    assert reused.headers["content-type"] == PROBLEM
    assert "SYP-REF-1" in reused.json()["detail"]
    # Nothing of the refused referral was kept: no record of the second child.
    hub = client.get("/api/v1/children", headers=tokens.headers(**SOCIAL_WORKER)).json()["items"]
    assert [c["given_name"] for c in hub] == ["Jordan"]


@pytest.mark.parametrize(
    "field", ["given_name", "family_name", "gender", "ethnicity", "looked_after", "sen_or_disability"]
)
def test_an_explicit_null_for_a_field_that_cannot_be_empty_is_422_naming_it(client, tokens, field):
    hub = tokens.headers(**SOCIAL_WORKER)
    child = client.post("/api/v1/children", json=child_details(), headers=hub).json()
    url = f"/api/v1/children/{child['id']}"
    refused = client.patch(url, json={field: None}, headers={**hub, "If-Match": '"1"'})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert [e["pointer"] for e in refused.json()["errors"]] == [f"#/{field}"]
    assert client.get(url, headers=hub).json()[field] == child[field]


def test_an_explicit_null_clears_a_field_that_may_be_empty(client, tokens):
    hub = tokens.headers(**SOCIAL_WORKER)
    child = client.post("/api/v1/children", json=child_details(), headers=hub).json()
    cleared = client.patch(
        f"/api/v1/children/{child['id']}", json={"school": None}, headers={**hub, "If-Match": '"1"'}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["school"] is None


def forged_cursor(created_at: str) -> str:
    raw = json.dumps([created_at, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_with_a_time_without_offset_is_422(client, tokens):
    hub = tokens.headers(**SOCIAL_WORKER)
    for path in ("/api/v1/children", "/api/v1/referrals"):
        refused = client.get(path, params={"cursor": forged_cursor("2026-11-01T09:00:00")}, headers=hub)
        assert refused.status_code == 422, (path, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["errors"][0]["parameter"] == "cursor"
        aware = client.get(path, params={"cursor": forged_cursor("2026-11-01T09:00:00+00:00")}, headers=hub)
        assert aware.status_code == 200, (path, aware.text)
