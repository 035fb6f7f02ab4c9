"""What the platform's specs, the gateway's included, promise about retries: every POST and
PUT either honours `Idempotency-Key` or says why repeating it is safe (or what a repeat
makes), and only the operations that honour the key promise a safe retry with it."""

from __future__ import annotations

import json

import pytest

from devstack.openapi_export import current_specs
from safeguarding_kit.idempotency import HEADER, resolved, retry_safety

SPECS = {service: json.loads(text) for service, text in current_specs().items()}


@pytest.mark.parametrize("service", sorted(SPECS))
def test_every_post_and_put_honours_the_key_or_says_why_a_repeat_is_safe(service: str) -> None:
    safety = retry_safety(SPECS[service])
    assert safety, "a spec with no POST or PUT"
    assert sorted(operation for operation, why in safety.items() if not why) == []


@pytest.mark.parametrize("service", sorted(SPECS))
def test_only_operations_that_honour_the_key_promise_a_safe_retry_with_it(service: str) -> None:
    spec = SPECS[service]
    safety = retry_safety(spec)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            promise = HEADER in resolved(spec, operation["responses"]["503"])["description"]
            honours = safety.get(operation["operationId"]) == HEADER
            assert promise == honours, f"{method.upper()} {path}"
