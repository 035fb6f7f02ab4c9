"""Police and social care recording the adults and places behind exploitation."""

from __future__ import annotations

from referral_scenarios import POLICE, SOCIAL_WORKER, YOUTH_WORKER, child_details

OFFICER = {**POLICE, "roles": ["practitioner"]}
HEALTH = {"agency": "sheffield-health", "agency_type": "health", "roles": ["practitioner"]}


def test_police_record_a_person_of_concern_with_ethnicity_and_link_a_child(client, tokens):
    child = client.post(
        "/api/v1/children", json=child_details(), headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    person = client.post(
        "/api/v1/persons-of-concern",
        json={"alias": "Shadz", "approximate_age": 24, "gender": "male", "ethnicity": "white_other"},
        headers=tokens.headers(**OFFICER),
    )
    assert person.status_code == 201, person.text
    linked = client.post(
        f"/api/v1/persons-of-concern/{person.json()['id']}/links",
        json={"child_id": child["id"]},
        headers=tokens.headers(**OFFICER),
    )
    assert linked.json()["child_ids"] == [child["id"]]
    assert linked.json()["ethnicity"] == "white_other"


def test_youth_and_health_workers_cannot_see_persons_or_places(client, tokens):
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=tokens.headers(**OFFICER)
    ).json()
    for who in (YOUTH_WORKER, HEALTH):
        assert (
            client.get(
                f"/api/v1/persons-of-concern/{person['id']}", headers=tokens.headers(**who)
            ).status_code
            == 404
        )
        assert client.get("/api/v1/places-of-concern", headers=tokens.headers(**who)).status_code == 403
        refused = client.post(
            "/api/v1/places-of-concern",
            json={"place_type": "park", "name": "Park"},
            headers=tokens.headers(**who),
        )
        assert refused.status_code == 403


def test_a_place_never_holds_a_house_number_or_a_child_link_for_a_house(client, tokens):
    numbered = client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "house", "name": "House", "street": "12 Acre Lane"},
        headers=tokens.headers(**OFFICER),
    )
    assert numbered.status_code == 422
    house = client.post(
        "/api/v1/places-of-concern",
        json={"place_type": "house", "name": "Party house", "street": "Acre Lane", "ward_code": "E05010863"},
        headers=tokens.headers(**OFFICER),
    ).json()
    child = client.post(
        "/api/v1/children", json=child_details(), headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    refused = client.post(
        f"/api/v1/places-of-concern/{house['id']}/links",
        json={"child_id": child["id"]},
        headers=tokens.headers(**OFFICER),
    )
    assert refused.status_code == 422


def test_places_are_listed_by_type_and_ward(client, tokens):
    for place_type, ward in (("hotel", "E05010863"), ("takeaway", "E05010863"), ("hotel", "E05010870")):
        client.post(
            "/api/v1/places-of-concern",
            json={"place_type": place_type, "name": f"{place_type} {ward}", "ward_code": ward},
            headers=tokens.headers(**OFFICER),
        )
    hotels = client.get(
        "/api/v1/places-of-concern",
        params={"place_type": "hotel", "ward_code": "E05010863"},
        headers=tokens.headers(**SOCIAL_WORKER),
    ).json()
    assert [p["name"] for p in hotels["items"]] == ["hotel E05010863"]
