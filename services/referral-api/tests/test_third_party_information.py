"""A youth pastor passing information to the hub, and what comes back (a receipt only)."""

from __future__ import annotations

from referral_scenarios import SOCIAL_WORKER, child_details, referral_body

CHURCH = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}
SCHOOL_REFERRER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}


def information(**child):
    return {
        "informant": {"name": "Alex Helper", "role": "Youth pastor", "organisation": "St Example's Church"},
        "child": child or {"description": "Boy about 14, red coat, seen at the London Road takeaway"},
        "information": "Seen late at night with adults who drive him away.",
        "concern_types": ["criminal_exploitation"],
        "lawful_basis": {
            "basis": "safeguarding_without_consent",
            "reason": "Telling the family may alert the adults.",
        },
    }


def test_the_sender_gets_a_receipt_and_nothing_more(client, tokens):
    receipt = client.post(
        "/api/v1/third-party-information", json=information(), headers=tokens.headers(**CHURCH)
    )
    assert receipt.status_code == 202, receipt.text
    assert set(receipt.json()) == {"receipt_id", "received_at", "message"}
    read_back = client.get(
        f"/api/v1/third-party-information/{receipt.json()['receipt_id']}", headers=tokens.headers(**CHURCH)
    )
    assert read_back.status_code == 403  # a referrer has no case access at all


def test_the_hub_reads_it_linked_to_the_child_it_matches(client, tokens):
    referral = client.post(
        "/api/v1/referrals", json=referral_body(), headers=tokens.headers(**SCHOOL_REFERRER)
    ).json()
    body = information(given_name="Jordan", family_name="Example", date_of_birth="2011-03-14")
    receipt = client.post(
        "/api/v1/third-party-information", json=body, headers=tokens.headers(**CHURCH)
    ).json()
    hub = client.get(
        f"/api/v1/third-party-information/{receipt['receipt_id']}", headers=tokens.headers(**SOCIAL_WORKER)
    )
    assert hub.status_code == 200
    assert hub.json()["child_id"] == referral["child_id"]
    listed = client.get(
        "/api/v1/third-party-information",
        params={"child_id": referral["child_id"]},
        headers=tokens.headers(**SOCIAL_WORKER),
    ).json()
    assert [i["id"] for i in listed["items"]] == [receipt["receipt_id"]]


def test_information_about_nobody_in_particular_is_refused(client, tokens):
    body = information()
    body["child"] = {}
    response = client.post("/api/v1/third-party-information", json=body, headers=tokens.headers(**CHURCH))
    assert response.status_code == 422


def test_information_is_not_matched_by_an_nhs_number_two_records_carry(client, tokens):
    """A school's referral with a known NHS number but another date of birth makes a
    second record with that number, waiting for the hub's duplicate review: information
    quoting the number alone could be about either, so it is matched to neither."""
    nhs_number = "9434765919"
    first = referral_body(child=child_details(nhs_number=nhs_number))
    second = referral_body(child={**first["child"], "date_of_birth": "2010-01-01"})
    ids = {
        client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL_REFERRER)).json()[
            "child_id"
        ]
        for body in (first, second)
    }
    assert len(ids) == 2
    receipt = client.post(
        "/api/v1/third-party-information",
        json=information(nhs_number=nhs_number),
        headers=tokens.headers(**CHURCH),
    ).json()
    hub = client.get(
        f"/api/v1/third-party-information/{receipt['receipt_id']}", headers=tokens.headers(**SOCIAL_WORKER)
    )
    assert hub.status_code == 200
    assert hub.json()["child_id"] is None
