"""The filters of the hub's risk lists take plain dates (the day as it starts in England)
or times with a UTC offset: a time without one (or a cursor holding one) is 422 naming
the parameter, never a 500 or a guess."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from risk_scenarios import ASSESSOR, PROBLEM


@pytest.mark.parametrize("parameter", ["level_changed_since", "review_due_before", "assessed_before"])
def test_a_filter_time_without_offset_is_422_naming_it(client, tokens, parameter):
    headers = tokens.headers(**ASSESSOR)
    refused = client.get("/api/v1/risk/children", params={parameter: "2026-11-01T09:00:00"}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"][0]["parameter"] == parameter
    aware = client.get(
        "/api/v1/risk/children", params={parameter: "2026-11-01T09:00:00+01:00"}, headers=headers
    )
    assert aware.status_code == 200, aware.text
    plain_date = client.get("/api/v1/risk/children", params={parameter: "2026-11-01"}, headers=headers)
    assert plain_date.status_code == 200, plain_date.text


def test_a_cursor_with_a_time_without_offset_is_422(client, tokens):
    raw = json.dumps(["2026-11-01T09:00:00", str(uuid.uuid4())]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    refused = client.get(
        "/api/v1/risk/children", params={"cursor": cursor}, headers=tokens.headers(**ASSESSOR)
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["parameter"] == "cursor"
