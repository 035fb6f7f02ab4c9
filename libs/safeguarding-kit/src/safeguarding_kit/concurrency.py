"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in (RFC 9110 §13).

A record's ETag is its version number. An update without ``If-Match`` is refused
with 428, one from a stale version with 412; in both cases nothing changes.
``If-Match: *`` (RFC 9110: "any current version") is refused with 428 too: it would
let a client overwrite a change it never read, which is what the check is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm.exc import StaleDataError

from safeguarding_kit.created import require_location
from safeguarding_kit.problems import Problem, problem_as_response


class PreconditionRequired(Problem):
    """An update sent without `If-Match` (or with `If-Match: *`): send the `ETag` of the
    record as you last read it."""

    status, slug, title = 428, "if-match-required", "If-Match required"


class StaleWrite(Problem):
    """The record changed since the `ETag` in `If-Match` was read; nothing was changed.
    Read it again and reapply your change."""

    status, slug, title = 412, "stale-write", "The record changed since you read it"


# Set on a dependency to list the request headers it refuses to go on without (with its
# own problem, not FastAPI's 422): the OpenAPI post-processor declares them required.
REQUIRED_HEADERS_ATTRIBUTE = "__required_request_headers__"
IF_MATCH = "If-Match"

_IF_MATCH_HELP = (
    "The ETag from your last read of the record. Without it, or with `*` instead of a "
    "specific ETag, the update is refused (428); if the record changed since, it is refused (412)."
)


_IF_MATCH_MISSING = (
    "Send If-Match with the ETag from your last read of this record, so that a concurrent "
    "change is not overwritten."
)


async def if_match_required(
    if_match: Annotated[str | None, Header(alias=IF_MATCH, description=_IF_MATCH_HELP)] = None,
) -> str:
    """The caller's ``If-Match``, refused with 428 before anything is read when it is missing
    or ``*`` (the same answer whether or not the record exists)."""
    if if_match is None:
        raise PreconditionRequired(_IF_MATCH_MISSING)
    _specific_tags(if_match)
    return if_match


setattr(if_match_required, REQUIRED_HEADERS_ATTRIBUTE, (IF_MATCH,))

# Every update of a record: 428 without a specific ETag, 412 when it is stale.
IfMatchHeader = Annotated[str, Depends(if_match_required)]

# An operation that makes the record on first use and updates it after (a child's first
# risk assessment): If-Match is needed, and checked, only once the record exists.
IfMatchOnceRecorded = Annotated[
    str | None,
    Header(
        alias=IF_MATCH,
        description="Needed once the record exists: the ETag from your last read of it. Without "
        "it, or with `*`, the request is then refused (428); if the record changed since, 412.",
    ),
]


def etag(version: int) -> str:
    """The strong ETag of a record at ``version``."""
    return f'"{version}"'


class VersionedJSONResponse(JSONResponse):
    """A record's JSON with the ``ETag`` of its version (and ``Location`` when it was just
    created: a 201 without one is refused). A handler annotated to return this class
    declares the ``ETag`` in the OpenAPI spec."""

    def __init__(
        self,
        content: Any,
        *,
        version: int,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        all_headers = {"ETag": etag(version), **(headers or {})}
        require_location(status_code, all_headers)
        super().__init__(content, status_code=status_code, headers=all_headers)

    def render(self, content: Any) -> bytes:
        # A schema straight to JSON by pydantic's serializer, with no dict in between.
        if isinstance(content, BaseModel):
            return content.model_dump_json().encode()
        return super().render(content)


def json_with_etag(
    body: BaseModel | dict[str, Any],
    version: int,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> VersionedJSONResponse:
    """``body`` (a schema, or a JSON object kept from an earlier answer) with the ``ETag``
    of the record at ``version``, and any other ``headers`` (``Location``, which a 201 needs)."""
    return VersionedJSONResponse(body, version=version, status_code=status_code, headers=headers)


def _specific_tags(if_match: str | None) -> set[str]:
    """The ETags ``If-Match`` names; 428 when it is missing or ``*``."""
    if if_match is None:
        raise PreconditionRequired(_IF_MATCH_MISSING)
    offered = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in offered:
        raise PreconditionRequired(
            "If-Match: * is not accepted here: send the specific ETag from your last read of "
            "this record, so that a change you have not seen is not overwritten."
        )
    return offered


def check_if_match(if_match: str | None, current_version: int) -> None:
    """Pass when ``If-Match`` names the current version; otherwise 428 (missing, or
    ``*``) or 412 (stale)."""
    if etag(current_version) not in _specific_tags(if_match):
        raise StaleWrite(
            "The record has changed since you read it (your If-Match is stale). Read it again, "
            "reapply your change and retry with the new ETag."
        )


def install_stale_write_handler(app: FastAPI) -> None:
    """Two writes that both passed If-Match at once: the database's version check
    (``version_id_col``) stops the second, which answers 412 like any stale write."""

    async def on_stale(request: Request, exc: Exception) -> JSONResponse:
        return problem_as_response(
            StaleWrite("The record was changed by someone else at the same moment. Read it again and retry."),
            instance=request.url.path,
        )

    app.add_exception_handler(StaleDataError, on_stale)
