"""A partner system retrying a create: every operation of the referral service that
creates a record honours `Idempotency-Key` through the kit's one mechanism (the same key
and body get the first answer again, another body is 422 naming the key, keys are each
agency's own); every other POST or PUT says in its spec why a repeat is safe."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from referral_scenarios import (
    AUDITOR,
    POLICE,
    SCHOOL,
    SOCIAL_WORKER,
    YOUTH_WORKER,
    bearer,
    child_details,
    referral_body,
)

from referral_api.app import create_app
from referral_api.break_glass.models import BreakGlassGrant
from referral_api.children.models import Child
from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern
from referral_api.database import EVENTS
from referral_api.disruption.models import DisruptionAction
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral
from referral_api.retention.models import LegalHold
from referral_api.settings import ReferralSettings
from referral_api.subject_access.models import SubjectAccessRequest
from referral_api.support.models import Support, SupportContact
from referral_api.third_party.models import ThirdPartyInformation
from safeguarding_kit.idempotency import HEADER
from safeguarding_kit.idempotency_testing import (
    KEY,
    Call,
    Create,
    check_each_agency_has_its_own_keys,
    check_key_with_another_request_is_refused,
    check_retry_gets_the_first_answer,
    check_spec_says_how_each_write_is_retried,
    post,
    record_count,
)
from safeguarding_kit.periods import england_day
from safeguarding_kit.settings import DatabaseSettings

OFFICER = {**POLICE, "roles": ["practitioner"]}
GP = {"agency": "norfolk-park-medical-practice", "agency_type": "health", "roles": ["practitioner"]}
CHURCH = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}
SAFE_SPACE = {"agency": "safe-space-sheffield", "agency_type": "voluntary", "roles": ["referrer"]}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SCHOOL_ADMIN = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["admin"]}
BREAK_GLASS_REASON = "Found at 02:00 in a hotel with two adults; out-of-hours duty worker planning tonight."


def _child(client: Any, as_caller: Any, **details: Any) -> str:
    answer = client.post("/api/v1/children", json=child_details(**details), headers=as_caller(SOCIAL_WORKER))
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["id"])


def _referral_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    return (
        Call("/api/v1/referrals", referral_body()),
        Call("/api/v1/referrals", referral_body(summary="Something else entirely.")),
    )


def _child_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    return Call("/api/v1/children", child_details()), Call(
        "/api/v1/children", child_details(given_name="Jamie")
    )


def _break_glass_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    # A child only the school that referred it is linked to.
    child_id = client.post("/api/v1/referrals", json=referral_body(), headers=as_caller(SCHOOL)).json()[
        "child_id"
    ]
    path = f"/api/v1/children/{child_id}/break-glass"
    return Call(path, {"reason": BREAK_GLASS_REASON}), Call(path, {"reason": BREAK_GLASS_REASON + " Again."})


def _missing_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    child_id = _child(client, as_caller)
    last_night = (datetime.now(UTC) - timedelta(hours=8)).replace(microsecond=0)
    body = {"child_id": child_id, "reported_missing_at": last_night.isoformat()}
    earlier = {**body, "reported_missing_at": (last_night - timedelta(hours=1)).isoformat()}
    return Call("/api/v1/missing-episodes", body), Call("/api/v1/missing-episodes", earlier)


PERSON = {"alias": "Shadz", "approximate_age": 24, "gender": "male", "ethnicity": "white_other"}
PLACE = {"place_type": "hotel", "name": "Station Hotel", "ward_code": "E05010863"}


def _person_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/persons-of-concern"
    return Call(path, PERSON), Call(path, {**PERSON, "alias": "Dee"})


def _person_link_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    person = client.post("/api/v1/persons-of-concern", json=PERSON, headers=as_caller(OFFICER)).json()
    path = f"/api/v1/persons-of-concern/{person['id']}/links"
    other_child = _child(client, as_caller, given_name="Jamie")
    return Call(path, {"child_id": _child(client, as_caller)}), Call(path, {"child_id": other_child})


def _place_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/places-of-concern"
    return Call(path, PLACE), Call(path, {**PLACE, "name": "Central Takeaway", "place_type": "takeaway"})


def _place_link_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    place = client.post("/api/v1/places-of-concern", json=PLACE, headers=as_caller(OFFICER)).json()
    path = f"/api/v1/places-of-concern/{place['id']}/links"
    other_child = _child(client, as_caller, given_name="Jamie")
    return Call(path, {"child_id": _child(client, as_caller)}), Call(path, {"child_id": other_child})


def _disruption_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    person = client.post("/api/v1/persons-of-concern", json=PERSON, headers=as_caller(OFFICER)).json()
    body = {
        "kind": "child_abduction_warning_notice",
        "person_of_concern_id": person["id"],
        "action_date": "2026-08-14",
        "outcome": "issued",
        "child_ids": [_child(client, as_caller)],
    }
    path = "/api/v1/disruption/actions"
    return Call(path, body), Call(path, {**body, "reference": "SYP-CAWN-2026-0412"})


SAFE_SPACE_WORKER = {**SAFE_SPACE, "roles": ["practitioner"]}
SUPPORT = {"kind": "therapeutic_post_abuse_support", "provider": {"service": "post-abuse-support"}}


def _support_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = f"/api/v1/children/{_child(client, as_caller)}/support"
    return Call(path, SUPPORT), Call(path, {**SUPPORT, "kind": "emotional_wellbeing"})


def _support_contact_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    offered = client.post(
        f"/api/v1/children/{_child(client, as_caller)}/support",
        json={**SUPPORT, "requested_at": an_hour_ago.isoformat()},
        headers=as_caller(SOCIAL_WORKER),
    )
    started = client.post(
        f"/api/v1/support/{offered.json()['id']}/start",
        json={"started_at": an_hour_ago.isoformat()},
        headers={**as_caller(SAFE_SPACE_WORKER), "If-Match": offered.headers["etag"]},
    )
    assert started.status_code == 200, started.text
    path = f"/api/v1/support/{offered.json()['id']}/contacts"
    body = {
        "contacted_on": england_day(an_hour_ago).isoformat(),
        "setting": "school",
        "engagement": "engaged",
    }
    return Call(path, body), Call(path, {**body, "engagement": "partly_engaged"})


def _information_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    body = {
        "informant": {"name": "Alex Helper", "role": "Youth pastor", "organisation": "St Example's Church"},
        "child": {"description": "Boy about 14, red coat, seen at the London Road takeaway"},
        "information": "Seen late at night with adults who drive him away.",
        "concern_types": ["criminal_exploitation"],
        "lawful_basis": {
            "basis": "safeguarding_without_consent",
            "reason": "Telling the family may alert the adults.",
        },
    }
    path = "/api/v1/third-party-information"
    return Call(path, body), Call(path, {**body, "information": "Seen again, this time at the park."})


def _webhook_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/webhooks/referral-service/endpoints"
    body = {"url": "https://127.0.0.1:9/hooks", "event_types": ["referral.received"]}
    return Call(path, body), Call(path, {**body, "event_types": ["referral.status_changed"]})


CREATES = [
    Create("createReferral", SCHOOL, POLICE, _referral_calls, Referral.__table__),
    Create("registerChild", SOCIAL_WORKER, OFFICER, _child_calls, Child.__table__),
    Create("breakGlassToChild", YOUTH_WORKER, GP, _break_glass_calls, BreakGlassGrant.__table__),
    Create("reportMissing", SOCIAL_WORKER, OFFICER, _missing_calls, MissingEpisode.__table__),
    Create("createPersonOfConcern", OFFICER, SOCIAL_WORKER, _person_calls, PersonOfConcern.__table__),
    Create("linkPersonOfConcern", OFFICER, SOCIAL_WORKER, _person_link_calls, ConcernLink.__table__),
    Create("createPlaceOfConcern", OFFICER, SOCIAL_WORKER, _place_calls, PlaceOfConcern.__table__),
    Create("linkPlaceOfConcern", OFFICER, SOCIAL_WORKER, _place_link_calls, ConcernLink.__table__),
    Create("recordDisruptionAction", OFFICER, SOCIAL_WORKER, _disruption_calls, DisruptionAction.__table__),
    Create(
        "submitThirdPartyInformation", CHURCH, SAFE_SPACE, _information_calls, ThirdPartyInformation.__table__
    ),
    Create("offerSupport", SOCIAL_WORKER, OFFICER, _support_calls, Support.__table__),
    Create(
        "recordSupportContact",
        SAFE_SPACE_WORKER,
        SOCIAL_WORKER,
        _support_contact_calls,
        SupportContact.__table__,
    ),
    Create(
        "createReferralWebhookEndpoint", POLICE_ADMIN, SCHOOL_ADMIN, _webhook_calls, EVENTS.webhook_endpoints
    ),
]


def _hold_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    body = {
        "subject_type": "child",
        "subject_id": _child(client, as_caller),
        "reason": "The inquiry asked for every record of this child; keep them.",
        "reference": "IICSA-2027-014",
    }
    path = "/api/v1/retention/legal-holds"
    return Call(path, body), Call(path, {**body, "reference": "Operation Lantern"})


def _subject_access_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    body = {
        "subject_type": "child",
        "subject_id": _child(client, as_caller),
        "received_on": "2026-12-01",
        "requester_relationship": "parent_or_carer",
        "identity_verified": True,
    }
    path = "/api/v1/subject-access-requests"
    return Call(path, body), Call(path, {**body, "requester_relationship": "legal_representative"})


# Creates only one agency of the demonstration agreement may make (the `audits` auditors'):
# their retries are checked like the others', but not two agencies' keys.
ONE_AGENCYS_CREATES = [
    Create("placeLegalHold", AUDITOR, AUDITOR, _hold_calls, LegalHold.__table__),
    Create(
        "openSubjectAccessRequest", AUDITOR, AUDITOR, _subject_access_calls, SubjectAccessRequest.__table__
    ),
]


@pytest.fixture
def settings(settings: DatabaseSettings) -> DatabaseSettings:
    # The webhook endpoints registered here are on this machine.
    return settings.model_copy(update={"webhook_private_addresses_allowed": True})


@pytest.fixture
def as_caller(tokens: Any) -> Callable[[Mapping[str, Any]], Mapping[str, str]]:
    """The bearer headers of a caller."""
    return lambda who: bearer(tokens, dict(who))


@pytest.mark.parametrize("create", CREATES + ONE_AGENCYS_CREATES, ids=lambda c: c.operation)
def test_a_partner_systems_retry_with_the_same_key_gets_the_first_answer_and_makes_one_record(
    client, as_caller, create
):
    check_retry_gets_the_first_answer(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES + ONE_AGENCYS_CREATES, ids=lambda c: c.operation)
def test_the_same_key_with_another_request_is_422_naming_the_key_and_changes_nothing(
    client, as_caller, create
):
    check_key_with_another_request_is_refused(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_two_agencies_using_the_same_key_each_make_their_own_record(client, as_caller, create):
    check_each_agency_has_its_own_keys(client, as_caller, create)


def test_every_post_and_put_honours_the_key_or_says_why_a_repeat_is_safe(app):
    check_spec_says_how_each_write_is_retried(app.openapi(), CREATES + ONE_AGENCYS_CREATES)


def test_without_a_key_each_post_makes_its_own_record(client, as_caller):
    call, _ = _place_calls(client, as_caller)
    assert post(client, as_caller(OFFICER), call, key=None).status_code == 201
    assert post(client, as_caller(OFFICER), call, key=None).status_code == 201
    assert record_count(client, PlaceOfConcern.__table__) == 2


@pytest.mark.real_commits  # twenty requests at once, each on a connection of its own
def test_twenty_concurrent_retries_of_a_place_of_concern_make_one_place(client, as_caller):
    call, _ = _place_calls(client, as_caller)
    officer = as_caller(OFFICER)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: post(client, officer, call), range(20)))
    assert {a.status_code for a in answers} <= {201, 409}
    created = [a.json() for a in answers if a.status_code == 201]
    assert created
    assert all(body == created[0] for body in created)
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 409)
    assert record_count(client, PlaceOfConcern.__table__) == 1


def _database_down(data_dir: Any) -> ReferralSettings:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return ReferralSettings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/referral",
        data_dir=data_dir,
        environment="test",
        log_json=False,
        events_relay_enabled=False,
    )


def test_a_503_tells_the_caller_to_retry_with_its_key_only_where_the_key_is_honoured(data_dir, as_caller):
    with TestClient(create_app(_database_down(data_dir))) as client:
        create = client.post(
            "/api/v1/places-of-concern", json=PLACE, headers={**as_caller(OFFICER), HEADER: KEY}
        )
        transition = client.post(
            f"/api/v1/referrals/{uuid.uuid4()}/transitions",
            json={"to": "screening"},
            headers={**as_caller(SOCIAL_WORKER), "If-Match": '"1"'},
        )
    assert (create.status_code, transition.status_code) == (503, 503)
    assert "same Idempotency-Key" in create.json()["detail"]
    assert "Idempotency-Key" not in transition.json()["detail"]
    assert transition.json()["type"].endswith("database-unavailable")
