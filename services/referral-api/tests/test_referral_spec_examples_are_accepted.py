"""An integrator can copy the spec's request examples as they are: each create operation's
own example, posted by a caller allowed to make it, is accepted (ids an example needs from
another call come from that call, as the operation's description says). The webhook
endpoint's example is checked in tests/test_openapi_examples.py."""

from __future__ import annotations

from typing import Any

import pytest
from referral_scenarios import POLICE, SCHOOL, SOCIAL_WORKER

from safeguarding_kit.openapi_examples import request_body_example

DATA_ADMIN = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
OFFICER = {**POLICE, "roles": ["practitioner"]}
CHURCH = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}

CREATES = [
    ("/api/v1/children", SOCIAL_WORKER, {200, 201}),
    ("/api/v1/referrals", SCHOOL, {201}),
    ("/api/v1/referrals/migrated", DATA_ADMIN, {201}),
    ("/api/v1/persons-of-concern", OFFICER, {201}),
    ("/api/v1/places-of-concern", OFFICER, {201}),
    ("/api/v1/third-party-information", CHURCH, {202}),
]


def post_example(client: Any, tokens: Any, path: str, who: dict[str, Any], body: Any = None) -> Any:
    spec = client.app.openapi()
    example = request_body_example(spec, "post", path) if body is None else body
    return client.post(path, json=example, headers=tokens.headers(**who))


@pytest.mark.parametrize(("path", "who", "accepted"), CREATES, ids=[path for path, _, _ in CREATES])
def test_the_specs_own_create_example_is_accepted(client, tokens, path, who, accepted):
    response = post_example(client, tokens, path, who)
    assert response.status_code in accepted, response.text


def test_the_missing_episode_example_is_accepted_for_a_child_the_caller_registered(client, tokens):
    child = post_example(client, tokens, "/api/v1/children", SOCIAL_WORKER).json()
    example = request_body_example(client.app.openapi(), "post", "/api/v1/missing-episodes")
    response = post_example(
        client, tokens, "/api/v1/missing-episodes", SOCIAL_WORKER, {**example, "child_id": child["id"]}
    )
    assert response.status_code == 201, response.text
