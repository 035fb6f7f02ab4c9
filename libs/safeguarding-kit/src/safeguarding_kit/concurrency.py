"""Optimistic concurrency over HTTP: ``ETag`` out, ``If-Match`` in (RFC 9110 §13).

A record's ETag is its version number. An update without ``If-Match`` is refused
with 428, one from a stale version with 412; in both cases nothing changes.
``If-Match: *`` (RFC 9110: "any current version") is refused with 428 too: it would
let a client overwrite a change it never read, which is what the check is for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm.exc import StaleDataError

from safeguarding_kit.problems import Problem, problem_as_response


class PreconditionRequired(Problem):
    status, slug, title = 428, "if-match-required", "If-Match required"


class StaleWrite(Problem):
    status, slug, title = 412, "stale-write", "The record changed since you read it"


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag from your last read of the record. Required: without it, or "
        "with `*` instead of a specific ETag, the update is refused (428); if the record "
        "changed since, it is refused (412).",
    ),
]


def etag(version: int) -> str:
    """The strong ETag of a record at ``version``."""
    return f'"{version}"'


def json_with_etag(
    body: BaseModel | dict[str, Any],
    version: int,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """``body`` (a schema, or a JSON object kept from an earlier answer) with the ``ETag``
    of the record at ``version``, and any other ``headers`` (``Location``, say)."""
    content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return JSONResponse(content, status_code=status_code, headers={"ETag": etag(version), **(headers or {})})


def check_if_match(if_match: str | None, current_version: int) -> None:
    """Pass when ``If-Match`` names the current version; otherwise 428 (missing, or
    ``*``) or 412 (stale)."""
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last read of this record, so that a "
            "concurrent change is not overwritten."
        )
    offered = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in offered:
        raise PreconditionRequired(
            "If-Match: * is not accepted here: send the specific ETag from your last read of "
            "this record, so that a change you have not seen is not overwritten."
        )
    if etag(current_version) not in offered:
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
