"""An integrator can copy the spec's request examples as they are: the risk model the spec
shows is accepted as a draft, and the assessment it shows is accepted for a child under the
published model (the default model, which scores every indicator the example answers)."""

from __future__ import annotations

import uuid
from typing import Any

from risk_scenarios import ADMIN, ASSESSOR

from safeguarding_kit.openapi_examples import request_body_example


def post_example(client: Any, tokens: Any, who: dict[str, Any], template: str, **ids: str) -> Any:
    example = request_body_example(client.app.openapi(), "post", template)
    return client.post(template.format(**ids), json=example, headers=tokens.headers(**who))


def test_the_specs_own_risk_model_example_is_accepted_as_a_draft(client, tokens):
    response = post_example(client, tokens, ADMIN, "/api/v1/risk/models")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"


def test_the_specs_own_assessment_example_is_accepted(client, tokens, default_model):
    child_id = str(uuid.uuid4())
    response = post_example(
        client, tokens, ASSESSOR, "/api/v1/risk/children/{child_id}/assessments", child_id=child_id
    )
    assert response.status_code == 201, response.text
