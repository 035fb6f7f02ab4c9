"""Partner systems submitting referrals, retrying them, and reading them back."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from referral_scenarios import (
    HEALTH,
    POLICE,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    YOUTH_WORKER,
    bearer,
    child_details,
    move,
    referral_body,
    screen_and_decide,
    submit,
)

from referral_api.database import IDEMPOTENCY
from safeguarding_kit.idempotency import claim_key, request_fingerprint
from safeguarding_kit.testing import statements_sent


def all_referrals(client, tokens):
    return client.get(
        "/api/v1/referrals", params={"limit": 100}, headers=tokens.headers(**SOCIAL_WORKER)
    ).json()["items"]


def all_children(client, tokens):
    return client.get(
        "/api/v1/children", params={"limit": 100}, headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["items"]


def test_school_submits_a_referral_and_reads_back_its_status(client, tokens):
    headers = tokens.headers(**SCHOOL)
    created = client.post("/api/v1/referrals", json=referral_body(source_reference="SCH-1"), headers=headers)
    assert created.status_code == 201, created.text
    referral = created.json()
    assert referral["status"] == "received"
    assert (referral["agency"], referral["agency_type"]) == ("sheffield-schools", "education")
    assert created.headers["location"] == f"/api/v1/referrals/{referral['id']}"
    assert created.headers["etag"] == '"1"'

    read = client.get(f"/api/v1/referrals/{referral['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["status"] == "received"
    assert read.json()["concern_types"] == ["criminal_exploitation"]


def test_each_listed_referral_carries_its_own_concerns_and_a_longer_page_asks_no_more(client, tokens):
    """The list gives every referral the concerns it was sent with, asked for the whole page
    at once: four referrals on a page take the statements two do. (Not one: on PostgreSQL
    one read's audit record is one statement, a group's two, whatever its size.)"""
    concerns = [
        ["sexual_exploitation"],
        ["county_lines", "criminal_exploitation"],
        ["missing", "online_harm", "trafficking"],
        ["criminal_exploitation"],
    ]
    sent = {
        submit(client, tokens, concern_types=kinds, child=child_details(given_name=f"Child{n}"))["id"]: kinds
        for n, kinds in enumerate(concerns)
    }

    def statements_listing(limit: int) -> int:
        with statements_sent(client) as statements:
            answer = client.get(
                "/api/v1/referrals", params={"limit": limit}, headers=tokens.headers(**SOCIAL_WORKER)
            )
        assert answer.status_code == 200
        items = answer.json()["items"]
        assert len(items) == limit
        assert all(item["concern_types"] == sent[item["id"]] for item in items)
        return len(statements)

    assert statements_listing(2) == statements_listing(4)


def test_a_referral_costs_the_same_round_trips_however_many_concerns_it_names(client, tokens):
    """Intake's cost per referral is its round trips to the database: a referral naming four
    concerns sends as many statements as one naming one (they are inserted together), and
    the key's claim is the only statement before the referral's own transaction. On
    PostgreSQL the referral's new rows (a child registered for it and the child's first
    link, the referral, its concerns and its history, with a read of the partners'
    webhooks) are one statement, its events with their deliveries and the chronology's
    entry another, its audit record (staged, for the commit to chain) with the key's stored
    answer one more: four in all."""

    def statements_for(concern_types: list[str]) -> list[str]:
        headers = {**tokens.headers(**SCHOOL), "Idempotency-Key": str(uuid.uuid4())}
        with statements_sent(client) as statements:
            answer = client.post(
                "/api/v1/referrals", json=referral_body(concern_types=concern_types), headers=headers
            )
        assert answer.status_code == 201, answer.text
        assert answer.json()["concern_types"] == concern_types
        return [sql for sql in statements if "SAVEPOINT" not in sql]  # the tests' own rollback

    submit(client, tokens)  # the audit trail's first record starts its chain: one statement more
    one = statements_for(["criminal_exploitation"])
    four = statements_for(["sexual_exploitation", "criminal_exploitation", "county_lines", "missing"])
    assert len(four) == len(one)
    assert one[0].startswith("INSERT INTO idempotency_keys")
    assert sum("referral_concerns" in sql for sql in four) == 1
    if client.app.state.database.engine.dialect.name == "postgresql":
        [new_rows] = [sql for sql in four if "INSERT INTO referrals" in sql]
        for table in ("children", "child_agency_links", "referral_concerns", "referral_events"):
            assert f"INSERT INTO {table} " in new_rows
        # The claim, the new rows with a read of the partners' webhooks, the events with their
        # deliveries and the chronology's entry, the audit record with the stored answer.
        assert [sql.split()[:3] for sql in four] == [
            ["INSERT", "INTO", "idempotency_keys"],
            ["WITH", "new_0", "AS"],
            ["WITH", "new_events", "AS"],
            ["WITH", "rider_0", "AS"],
        ]
        assert "FROM webhook_endpoints" in four[1]
        assert "INSERT INTO chronology_entries " in four[2]
        assert "UPDATE idempotency_keys SET" in four[3]
        assert "INSERT INTO audit_pending " in four[3]


def test_a_referrer_reading_back_its_referrals_is_asked_about_no_break_glass_grant(client, tokens):
    """A partner system reading back what its agency sent can hold no break-glass grant: its
    reads send no question about grants (about a seventh of the service's work for such a list)."""
    made = submit(client, tokens)
    with statements_sent(client) as statements:
        listed = client.get("/api/v1/referrals", params={"limit": 1}, headers=tokens.headers(**SCHOOL))
        read = client.get(f"/api/v1/referrals/{made['id']}", headers=tokens.headers(**SCHOOL))
    assert (listed.status_code, read.status_code) == (200, 200)
    assert [item["id"] for item in listed.json()["items"]] == [made["id"]]
    assert not [sql for sql in statements if "break_glass_grants" in sql]


def test_retried_post_with_same_idempotency_key_returns_first_referral(client, tokens):
    headers = {**tokens.headers(**SCHOOL), "Idempotency-Key": "c0ffee00-0000-4000-8000-000000000001"}
    first = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    retry = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert first.json() == retry.json()
    assert len(all_referrals(client, tokens)) == 1


def test_same_idempotency_key_with_another_body_is_422_and_writes_nothing(client, tokens):
    headers = {**tokens.headers(**SCHOOL), "Idempotency-Key": "c0ffee00-0000-4000-8000-000000000002"}
    assert client.post("/api/v1/referrals", json=referral_body(), headers=headers).status_code == 201
    other = client.post(
        "/api/v1/referrals", json=referral_body(summary="Something else entirely."), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert len(all_referrals(client, tokens)) == 1


def test_same_key_while_the_first_request_is_in_flight_is_409(client, tokens):
    body = referral_body()
    key = "c0ffee00-0000-4000-8000-000000000003"
    # The first request has claimed the key and is still working.
    with client.app.state.database.sessions() as session:
        claim_key(
            session,
            IDEMPOTENCY,
            scope="sheffield-schools:POST /api/v1/referrals",
            key=key,
            request_hash=request_fingerprint(json.loads(json.dumps(_validated(body)))),
        )
    response = client.post(
        "/api/v1/referrals", json=body, headers={**tokens.headers(**SCHOOL), "Idempotency-Key": key}
    )
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert all_referrals(client, tokens) == []


def _validated(body):
    from referral_api.referrals.schemas import ReferralCreate

    return ReferralCreate.model_validate(body).model_dump(mode="json")


@pytest.mark.real_commits  # twenty requests at once, each on a connection of its own
def test_twenty_concurrent_posts_with_one_key_make_one_referral(client, tokens):
    headers = {**tokens.headers(**SCHOOL), "Idempotency-Key": "c0ffee00-0000-4000-8000-000000000004"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(
                lambda _: client.post("/api/v1/referrals", json=referral_body(), headers=headers), range(20)
            )
        )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}
    created = [a.json() for a in answers if a.status_code == 201]
    assert created
    assert all(c == created[0] for c in created)
    assert len(all_referrals(client, tokens)) == 1


def test_resending_the_same_source_reference_is_a_safe_retry(client, tokens):
    headers = tokens.headers(**SCHOOL)
    first = client.post(
        "/api/v1/referrals", json=referral_body(source_reference="SCH-RETRY"), headers=headers
    )
    again = client.post(
        "/api/v1/referrals", json=referral_body(source_reference="SCH-RETRY"), headers=headers
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    changed = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="SCH-RETRY", summary="Different"),
        headers=headers,
    )
    assert changed.status_code == 422  # same reference (its key) with another body
    other_agency = client.post(
        "/api/v1/referrals",
        json=referral_body(source_reference="SCH-RETRY"),
        headers=tokens.headers(**POLICE),
    )
    assert other_agency.status_code == 201
    assert len(all_referrals(client, tokens)) == 2


def test_school_referrer_cannot_read_or_list_a_police_referral(client, tokens):
    police = client.post("/api/v1/referrals", json=referral_body(), headers=tokens.headers(**POLICE)).json()
    school = tokens.headers(**SCHOOL)
    read = client.get(f"/api/v1/referrals/{police['id']}", headers=school)
    assert read.status_code == 404
    assert read.headers["content-type"] == PROBLEM
    assert client.get("/api/v1/referrals", headers=school).json()["items"] == []


def test_youth_worker_sees_referrals_only_for_children_linked_to_their_agency(client, tokens):
    known_child = {"child": child_details(nhs_number="9434765919")}
    police = client.post(
        "/api/v1/referrals", json=referral_body(**known_child), headers=tokens.headers(**POLICE)
    ).json()
    youth = tokens.headers(**YOUTH_WORKER)
    assert client.get(f"/api/v1/referrals/{police['id']}", headers=youth).status_code == 404
    by_id = referral_body(child_id=police["child_id"])
    del by_id["child"]
    refused = client.post("/api/v1/referrals", json=by_id, headers=youth)
    assert refused.status_code == 422  # an id they cannot see is no way in
    assert refused.json()["errors"][0]["pointer"] == "#/child_id"
    # Once the youth service refers the same child, the child's case is theirs to see too.
    own = client.post("/api/v1/referrals", json=referral_body(**known_child), headers=youth)
    assert own.status_code == 201
    assert own.json()["child_id"] == police["child_id"]
    assert client.get(f"/api/v1/referrals/{police['id']}", headers=youth).status_code == 200


def test_an_nhs_number_alone_opens_no_record_outside_the_hubs_own_teams(client, tokens):
    known = client.post(
        "/api/v1/referrals",
        json=referral_body(child=child_details(nhs_number="9434765919")),
        headers=tokens.headers(**POLICE),
    ).json()
    probe = referral_body(
        child=child_details(nhs_number="9434765919", family_name="Guess", date_of_birth="2012-01-01")
    )
    youth = tokens.headers(**YOUTH_WORKER)
    response = client.post("/api/v1/referrals", json=probe, headers=youth)
    # Accepted as a new child (the hub reviews the possible match), as an unknown number would be.
    assert response.status_code == 201, response.text
    assert response.json()["child_id"] != known["child_id"]
    assert response.json()["previous_referrals"] == 0
    assert "Jordan" not in response.text
    assert "Example" not in response.text
    assert client.get(f"/api/v1/children/{known['child_id']}", headers=youth).status_code == 404


def test_repeat_referrals_about_a_child_are_counted(client, tokens):
    nhs = {"child": child_details(nhs_number="943 476 5919")}
    first = client.post(
        "/api/v1/referrals", json=referral_body(**nhs), headers=tokens.headers(**SCHOOL)
    ).json()
    second = client.post(
        "/api/v1/referrals", json=referral_body(**nhs), headers=tokens.headers(**POLICE)
    ).json()
    assert first["child_id"] == second["child_id"]
    assert (first["previous_referrals"], second["previous_referrals"]) == (0, 1)
    child = client.get(
        f"/api/v1/children/{first['child_id']}", headers=tokens.headers(**SOCIAL_WORKER)
    ).json()
    assert child["referral_count"] == 2


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"concern_types": ["witchcraft"]}, "#/concern_types/0"),
        ({"child": child_details(date_of_birth="2099-01-01")}, "#/child/date_of_birth"),
        ({"child": child_details(nhs_number="9434765918")}, "#/child/nhs_number"),
        ({"summary": "x" * 1_000_000}, "#/summary"),
        ({"lawful_basis": {"basis": "safeguarding_without_consent"}}, "#/lawful_basis"),
        ({"status": "allocated"}, "#/status"),
        ({"agency": "south-yorkshire-police"}, "#/agency"),
        ({"id": str(uuid.uuid4())}, "#/id"),
        ({"child": child_details(home_ward_code="SHEFFIELD")}, "#/child/home_ward_code"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, tokens, change, pointer):
    assert all_children(client, tokens) == []
    response = client.post(
        "/api/v1/referrals", json=referral_body(**change), headers=tokens.headers(**SCHOOL)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert all_referrals(client, tokens) == []
    assert all_children(client, tokens) == []  # nor a child record from the details sent


def test_a_referral_without_a_lawful_basis_is_refused(client, tokens):
    body = referral_body()
    del body["lawful_basis"]
    response = client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 422
    assert {"pointer": "#/lawful_basis", "detail": "Field required"} in response.json()["errors"]


def test_malformed_json_is_the_documented_400_not_a_500(client, tokens):
    headers = {**tokens.headers(**SCHOOL), "content-type": "application/json"}
    response = client.post("/api/v1/referrals", content=b'{"summary": "unterminated', headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:safeguarding:problem:unreadable-body"
    assert response.json()["errors"][0]["pointer"] == "#"
    assert "not valid JSON" in response.json()["errors"][0]["detail"]
    assert all_referrals(client, tokens) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_is_the_documented_400_and_nothing_is_written(client, tokens, content_type):
    headers = tokens.headers(**SCHOOL)
    if content_type:
        headers["content-type"] = content_type
    response = client.post("/api/v1/referrals", content=json.dumps(referral_body()), headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:safeguarding:problem:unreadable-body"
    assert "Content-Type: application/json" in response.json()["detail"]
    assert all_referrals(client, tokens) == []


def test_analyst_cannot_submit(client, tokens):
    headers = tokens.headers(agency="sheffield-council", agency_type="social_care", roles=["analyst"])
    response = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert response.status_code == 403


def test_request_without_token_is_401_problem(client):
    response = client.get("/api/v1/referrals")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_filters_and_pages_walk_every_matching_referral_once(client, tokens):
    headers = tokens.headers(**SCHOOL)
    made = set()
    for i in range(5):
        concern = "sexual_exploitation" if i % 2 else "criminal_exploitation"
        made.add(
            (
                client.post(
                    "/api/v1/referrals", json=referral_body(concern_types=[concern]), headers=headers
                ).json()["id"],
                concern,
            )
        )
    seen: list[str] = []
    cursor = None
    while True:
        params = {
            "limit": 2,
            "concern_type": "criminal_exploitation",
            **({"cursor": cursor} if cursor else {}),
        }
        page = client.get("/api/v1/referrals", params=params, headers=headers).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(i for i, c in made if c == "criminal_exploitation")


def walk(client, tokens, params, limit=2):
    """Every referral a social worker lists with ``params``, page by page, in list order."""
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/referrals",
            params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})},
            headers=bearer(tokens, SOCIAL_WORKER),
        )
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= limit
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def a_hubs_autumn(client, tokens, referral_clock):
    """Eight referrals from three agencies over four months, at various stages; ids by label."""
    plan = [  # label, who refers, received (UTC), where the hub took it, allocated worker
        ("school-oct", SCHOOL, datetime(2025, 10, 6, 9, 0), "received", None),
        ("school-nov", SCHOOL, datetime(2025, 11, 3, 9, 0), "allocated", "worker-4411"),
        ("police-nov", POLICE, datetime(2025, 11, 3, 9, 0), "allocated", "worker-4411"),  # same moment
        ("police-mid-nov", POLICE, datetime(2025, 11, 17, 9, 0), "allocated", "worker-5522"),
        ("health-dec", HEALTH, datetime(2025, 12, 1, 9, 0), "signposted", None),
        ("school-dec", SCHOOL, datetime(2025, 12, 1, 9, 0), "screening", None),
        ("police-jan", POLICE, datetime(2026, 1, 5, 9, 0), "no_further_action", None),
        ("health-jan", HEALTH, datetime(2026, 1, 5, 12, 0), "received", None),
    ]
    made = {}
    for label, who, received, status, worker in plan:
        referral_clock.now = received.replace(tzinfo=UTC)
        referral = submit(client, tokens, who)
        if status == "screening":
            move(client, tokens, referral, SOCIAL_WORKER, to="screening")
        elif status != "received":
            screen_and_decide(
                client, tokens, referral, status, **({"allocated_worker": worker} if worker else {})
            )
        made[label] = referral["id"]
    referral_clock.now = None
    return made


LIST_FILTERS = [  # query, the referrals it must list (every page walked, 2 to a page)
    ({"status": "received"}, {"school-oct", "health-jan"}),
    ({"status": "allocated"}, {"school-nov", "police-nov", "police-mid-nov"}),
    ({"status": "screening"}, {"school-dec"}),
    ({"status": "signposted"}, {"health-dec"}),
    ({"status": "closed"}, set()),
    ({"source_agency_type": "education"}, {"school-oct", "school-nov", "school-dec"}),
    ({"source_agency_type": "police"}, {"police-nov", "police-mid-nov", "police-jan"}),
    ({"source_agency_type": "voluntary"}, set()),
    ({"allocated_worker": "worker-4411"}, {"school-nov", "police-nov"}),
    # From is inclusive, to exclusive: 1 December 09:00 belongs to the next period.
    (
        {"received_from": "2025-11-03T09:00:00Z", "received_to": "2025-12-01T09:00:00Z"},
        {"school-nov", "police-nov", "police-mid-nov"},
    ),
    ({"received_from": "2025-12-01T09:00:00Z"}, {"health-dec", "school-dec", "police-jan", "health-jan"}),
    ({"received_to": "2025-11-03T09:00:00Z"}, {"school-oct"}),
    ({"received_from": "2026-01-05T10:00:00+01:00"}, {"police-jan", "health-jan"}),  # 09:00 UTC
    # Plain dates are days as they start in England: November, whole.
    (
        {"received_from": "2025-11-01", "received_to": "2025-12-01"},
        {"school-nov", "police-nov", "police-mid-nov"},
    ),
    ({"source_agency_type": "police", "status": "allocated"}, {"police-nov", "police-mid-nov"}),
    (
        {"status": "allocated", "received_from": "2025-11-10T00:00:00Z", "allocated_worker": "worker-5522"},
        {"police-mid-nov"},
    ),
]


def test_list_filters_return_exactly_the_matching_referrals_page_by_page(
    client, tokens, referral_clock, subtests
):
    made = a_hubs_autumn(client, tokens, referral_clock)
    label_of = {referral_id: label for label, referral_id in made.items()}
    everything = walk(client, tokens, {})
    assert sorted(label_of[r["id"]] for r in everything) == sorted(made)
    for params, expected in LIST_FILTERS:
        with subtests.test(**params):
            listed = walk(client, tokens, params)
            labels = [label_of[r["id"]] for r in listed]
            assert len(labels) == len(set(labels)), "a referral was listed twice across pages"
            assert set(labels) == expected
            newest_first = [(r["received_at"], r["id"]) for r in listed]
            assert newest_first == sorted(newest_first, reverse=True)


def test_a_received_filter_without_a_utc_offset_or_not_a_date_is_422_naming_the_parameter(
    client, tokens, subtests
):
    for parameter in ("received_from", "received_to"):
        for value in ("2025-11-03T09:00:00", "2025-11-31", "yesterday"):
            with subtests.test(parameter=parameter, value=value):
                response = client.get(
                    "/api/v1/referrals", params={parameter: value}, headers=bearer(tokens, SOCIAL_WORKER)
                )
                assert response.status_code == 422
                assert response.headers["content-type"] == PROBLEM
                assert response.json()["errors"][0]["parameter"] == parameter


def test_limit_above_100_and_forged_cursor_are_refused(client, tokens):
    headers = tokens.headers(**SCHOOL)
    too_many = client.get("/api/v1/referrals", params={"limit": 100_000}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["parameter"] == "limit"
    forged = client.get("/api/v1/referrals", params={"cursor": "not-a-cursor"}, headers=headers)
    assert forged.status_code == 400
    assert forged.headers["content-type"] == PROBLEM


def test_every_response_carries_a_request_id(client, tokens):
    mine = client.get(
        "/api/v1/referrals", headers={**tokens.headers(**SCHOOL), "X-Request-ID": "partner-req-000123"}
    )
    assert mine.headers["x-request-id"] == "partner-req-000123"
    fresh = client.get("/api/v1/referrals")
    assert len(fresh.headers["x-request-id"]) == 36
    assert fresh.json()["request_id"] == fresh.headers["x-request-id"]


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"summary": "Seen at the station\u0000 with older males."}, "#/summary"),
        ({"child": child_details(given_name="Ay\u0000la")}, "#/child/given_name"),
    ],
)
def test_a_nul_character_is_refused_naming_the_field_and_nothing_is_written(client, tokens, change, pointer):
    # PostgreSQL cannot store U+0000: without this check the database refused it mid-write (500).
    body = referral_body(**change)
    response = client.post("/api/v1/referrals", json=body, headers=tokens.headers(**SCHOOL))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert all_children(client, tokens) == []


def test_a_nul_character_in_a_list_filter_is_refused_naming_the_parameter(client, tokens):
    response = client.get(
        "/api/v1/referrals", params={"allocated_worker": "jo\u0000"}, headers=bearer(tokens, SOCIAL_WORKER)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "allocated_worker"
