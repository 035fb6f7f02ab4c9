"""A 201 says where the new record lives (``Location``, RFC 9110 §10.2.2).

Every handler that answers 201 returns :class:`CreatedJSONResponse` or
:class:`safeguarding_kit.concurrency.VersionedJSONResponse`, and both refuse a 201
without ``Location``: so the ``Location`` the OpenAPI spec declares on every 201 is
always sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

LOCATION = "Location"


def require_location(status_code: int, headers: Mapping[str, str]) -> None:
    """Refuse (``ValueError``, a bug in the handler) a 201 whose ``headers`` have no ``Location``."""
    if status_code == 201 and not any(name.lower() == "location" for name in headers):
        raise ValueError("A 201 answer must say where the new record lives: pass its Location.")


class CreatedJSONResponse(JSONResponse):
    """201 with the new record's JSON and its ``Location`` (a record without a version: one
    with a version is a ``VersionedJSONResponse``)."""

    def __init__(self, content: Any, *, location: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(content, status_code=201, headers={LOCATION: location, **(headers or {})})
