"""A partner system retrying a create in the risk service: drafting a risk model, starting
a new version, assessing a child and registering a webhook endpoint honour
`Idempotency-Key` (the first answer again, 422 for another request under the key, each
agency's keys its own); every other POST or PUT says in its spec why a repeat is safe."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from risk_scenarios import ADMIN, ASSESSOR, answers

from risk_api.assessments.models import Assessment
from risk_api.database import EVENTS
from risk_api.risk_models.models import RiskModel
from risk_api.settings import RiskSettings
from safeguarding_kit.idempotency_testing import (
    Call,
    Create,
    check_each_agency_has_its_own_keys,
    check_key_with_another_request_is_refused,
    check_retry_gets_the_first_answer,
    check_spec_says_how_each_write_is_retried,
    post,
    record_count,
)
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.testing import TokenFactory

pytestmark = pytest.mark.usefixtures("default_model")

# A second governing agency, granted in this module's agreement only: the demo agreement
# lets one agency govern risk models, and keys are per agency.
SOCIAL_CARE_ADMIN = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["admin"]}
POLICE_ASSESSOR = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["risk_assessor"]}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
MODEL = {
    "name": "Regional CE screening",
    "medium_from": 3,
    "high_from": 6,
    "indicators": [
        {
            "code": "missing_repeat",
            "wording": "Missing three or more times in 90 days",
            "category": "missing",
            "exploitation_type": "both",
            "weight": 3,
        }
    ],
}


@pytest.fixture
def settings(settings: DatabaseSettings, tmp_path: Path) -> DatabaseSettings:
    agreement = yaml.safe_load(settings.partnership_agreement_file.read_text())
    for agency in agreement["agencies"]:
        if agency.get("slug") == SOCIAL_CARE_ADMIN["agency"]:
            agency["capacities"] = [*agency.get("capacities", []), "governs_risk_models"]
    path = tmp_path / "agreement.yaml"
    path.write_text(yaml.safe_dump(agreement))
    return RiskSettings(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        environment="test",
        log_json=False,
        events_relay_enabled=False,
        partnership_agreement_file=path,
        # The webhook endpoints registered here are on this machine.
        webhook_private_addresses_allowed=True,
    )


@pytest.fixture
def as_caller(tokens: TokenFactory) -> Callable[[Mapping[str, Any]], Mapping[str, str]]:
    """The bearer headers of a caller."""
    return lambda who: tokens.headers(**who)


def _model_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/risk/models"
    return Call(path, MODEL), Call(path, {**MODEL, "high_from": 9})


def _new_version_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    drafts = [
        client.post("/api/v1/risk/models", json=MODEL, headers=as_caller(ADMIN)).json() for _ in range(2)
    ]
    return (
        Call(f"/api/v1/risk/models/{drafts[0]['id']}/new-version"),
        Call(f"/api/v1/risk/models/{drafts[1]['id']}/new-version"),
    )


def _assessment_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    body = {"age_at_assessment": 15, "answers": answers("missing_repeat", "exclusion")}
    return (
        Call(f"/api/v1/risk/children/{uuid.uuid4()}/assessments", body),
        Call(f"/api/v1/risk/children/{uuid.uuid4()}/assessments", body),
    )


def _webhook_calls(client: Any, as_caller: Any) -> tuple[Call, Call]:
    path = "/api/v1/webhooks/risk-service/endpoints"
    body = {"url": "https://127.0.0.1:9/hooks", "event_types": ["risk.assessed"]}
    return Call(path, body), Call(path, {**body, "event_types": ["risk.level_changed"]})


CREATES = [
    Create("createRiskModel", ADMIN, SOCIAL_CARE_ADMIN, _model_calls, RiskModel.__table__),
    Create("startRiskModelVersion", ADMIN, SOCIAL_CARE_ADMIN, _new_version_calls, RiskModel.__table__),
    Create("assessChild", ASSESSOR, POLICE_ASSESSOR, _assessment_calls, Assessment.__table__),
    Create("createRiskWebhookEndpoint", POLICE_ADMIN, ADMIN, _webhook_calls, EVENTS.webhook_endpoints),
]


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_a_partner_systems_retry_with_the_same_key_gets_the_first_answer_and_makes_one_record(
    client, as_caller, create
):
    check_retry_gets_the_first_answer(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_the_same_key_with_another_request_is_422_naming_the_key_and_changes_nothing(
    client, as_caller, create
):
    check_key_with_another_request_is_refused(client, as_caller, create)


@pytest.mark.parametrize("create", CREATES, ids=lambda c: c.operation)
def test_two_agencies_using_the_same_key_each_make_their_own_record(client, as_caller, create):
    check_each_agency_has_its_own_keys(client, as_caller, create)


def test_every_post_and_put_honours_the_key_or_says_why_a_repeat_is_safe(app):
    check_spec_says_how_each_write_is_retried(app.openapi(), CREATES)


def test_a_retried_assessment_gets_its_first_answer_though_the_childs_etag_has_moved_on(client, as_caller):
    """The first assessment made the child's risk record, so a retry without its ETag would
    otherwise be 428: the key answers it with the assessment it made."""
    call, _ = _assessment_calls(client, as_caller)
    first = post(client, as_caller(ASSESSOR), call)
    without_key = post(client, as_caller(ASSESSOR), call, key=None)
    retry = post(client, as_caller(ASSESSOR), call)
    assert (first.status_code, without_key.status_code, retry.status_code) == (201, 428, 201)
    assert retry.json() == first.json()
    assert record_count(client, Assessment.__table__) == 1


@pytest.mark.real_commits  # twenty requests at once, each on a connection of its own
def test_twenty_concurrent_retries_of_an_assessment_make_one_assessment(client, as_caller):
    call, _ = _assessment_calls(client, as_caller)
    assessor = as_caller(ASSESSOR)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answered = list(pool.map(lambda _: post(client, assessor, call), range(20)))
    assert {a.status_code for a in answered} <= {201, 409}
    made = [a.json() for a in answered if a.status_code == 201]
    assert made
    assert all(body == made[0] for body in made)
    assert record_count(client, Assessment.__table__) == 1
