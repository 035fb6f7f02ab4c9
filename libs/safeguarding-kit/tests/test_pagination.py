"""Cursors: what the API issues decodes to the same sort key; anything else is refused,
a forged time without a UTC offset with 422 naming the parameter (never a 500)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from safeguarding_kit.pagination import CursorWithoutOffset, decode_cursor, encode_cursor
from safeguarding_kit.problems import InvalidCursor


def _cursor(created_at: str) -> str:
    raw = json.dumps([created_at, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_an_issued_cursor_decodes_to_its_sort_key():
    key = (datetime(2026, 11, 29, 9, 30, tzinfo=UTC), uuid.uuid4())
    assert decode_cursor(encode_cursor(*key)) == key


def test_a_cursor_time_without_offset_is_422_naming_the_cursor():
    with pytest.raises(CursorWithoutOffset) as refused:
        decode_cursor(_cursor("2026-11-29T09:30:00"))
    assert refused.value.status == 422
    assert refused.value.errors is not None
    assert (refused.value.errors[0].parameter, refused.value.errors[0].location) == ("cursor", "query")


@pytest.mark.parametrize("cursor", ["not-a-cursor", _cursor("yesterday"), "W10", "WzEsIDJd"])
def test_a_cursor_this_api_did_not_issue_is_400(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
