"""RFC 9457 problem+json for every error a process answers.

Domain errors subclass :class:`Problem` and are raised in the service layer; the
handlers installed by :func:`install_problem_handlers` turn them, FastAPI's
validation errors and Starlette's HTTP errors into ``application/problem+json``.
A database that cannot be reached just now is 503 with ``Retry-After``.
Unexpected exceptions are answered by the request-context middleware in
:mod:`safeguarding_kit.observability`: a bare 500 with no trace, and the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeguarding_kit.request_context import current_request_id

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:safeguarding:problem:"
DATABASE_RETRY_AFTER_SECONDS = 2

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    detail: str = Field(examples=["Input should be a valid date"])
    pointer: str | None = Field(
        None,
        description="JSON pointer (RFC 6901, as a URI fragment) to the bad field in the body.",
        examples=["#/child/date_of_birth"],
    )
    parameter: str | None = Field(None, description="Name of the bad query, path or header parameter.")
    location: str | None = Field(None, description="Where the parameter is: query, path or header.")


class ProblemDetails(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "validation-error"])
    title: str = Field(examples=["Your request is not valid"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1 field is not valid; see errors."])
    instance: str | None = Field(None, examples=["/api/v1/referrals"])
    request_id: str | None = Field(None, examples=["4b5a1f9e-4f43-4a43-9f7b-1a5f8f0d2c11"])
    errors: list[FieldError] | None = None


class Problem(Exception):
    """A domain error with its HTTP meaning. Subclass per error and set the class fields."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[FieldError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors else None


class NotFound(Problem):
    """There is no such record, or the caller may not see it: the two are answered alike
    so that a refusal reveals nothing."""

    status, slug, title = 404, "not-found", "Not found"


class Unauthenticated(Problem):
    """No bearer token, or one that is expired, badly signed or from an issuer the
    partnership agreement does not trust for the claimed agency."""

    status, slug, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class Forbidden(Problem):
    """The caller's role, or their agency's capacity in the partnership agreement, does
    not allow this operation."""

    status, slug, title = 403, "forbidden", "Not allowed"


class Conflict(Problem):
    """The request is valid but the record's current state does not allow it."""

    status, slug, title = 409, "conflict", "Conflict"


class InvalidCursor(Problem):
    """The `cursor` is not one this API issued; start the list again without it."""

    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


class ValidationFailed(Problem):
    """A field of the body, query, path or headers is missing or not valid; `errors`
    names each one, by JSON pointer for a body field."""

    status, slug, title = 422, "validation-error", "Your request is not valid"


class UnreadableBody(Problem):
    """The body is not JSON in UTF-8 (or not sent as `application/json`), so there is no
    document to point into."""

    status, slug, title = 400, "unreadable-body", "The request body could not be read"


class DatabaseUnavailable(Problem):
    """The service cannot reach its database just now; retry after `Retry-After` (with the
    same `Idempotency-Key` where the operation declares that header)."""

    status, slug, title = 503, "database-unavailable", "Service temporarily unavailable"


class InternalError(Problem):
    """The server failed; nothing about why is given. Quote the request id when reporting it."""

    status, slug, title = 500, "internal-error", "Internal error"


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[FieldError] | None = None,
) -> JSONResponse:
    body = ProblemDetails(
        type=PROBLEM_TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        request_id=current_request_id(),
        errors=list(errors) if errors else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def problem_as_response(problem: Problem, *, instance: str | None = None) -> JSONResponse:
    """The problem+json answer for a raised :class:`Problem` (``instance``: the request's path)."""
    return problem_response(
        problem.status,
        problem.slug,
        problem.title,
        problem.detail,
        instance=instance,
        headers=problem.headers,
        errors=problem.errors,
    )


def _json_pointer(path: Sequence[int | str]) -> str:
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return "#/" + "/".join(escaped) if path else "#"


def field_errors(raw_errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic/FastAPI error dicts as problem+json field errors."""
    out: list[FieldError] = []
    for err in raw_errors:
        loc = list(err.get("loc", ()))
        where = loc[0] if loc else "body"
        message = str(err.get("msg", "is not valid"))
        if err.get("type") == "json_invalid":
            out.append(
                FieldError(
                    detail="The request body is not valid JSON: "
                    + str(err.get("ctx", {}).get("error", "")).strip(),
                    pointer="#",
                )
            )
        elif where == "body":
            out.append(FieldError(detail=message, pointer=_json_pointer(loc[1:])))
        else:
            out.append(
                FieldError(detail=message, parameter=".".join(str(p) for p in loc[1:]), location=str(where))
            )
    return out


INTERNAL_ERROR_DETAIL = "The server failed to answer this request. Quote the request id when reporting it."
DATABASE_UNAVAILABLE_DETAIL = "The service cannot reach its database just now. Retry shortly."
# Said only by an operation that declares the header (see safeguarding_kit.idempotency).
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
SAFE_RETRY_WITH_KEY = (
    "Retry with the same Idempotency-Key: the change is made once, and a retry after it "
    "gets the first answer."
)
UNREADABLE_BODY_DETAIL = (
    "The request body could not be read: send it as JSON in UTF-8, with Content-Type: application/json."
)
# What FastAPI raises for a JSON body it could not decode as UTF-8.
_FASTAPI_BODY_PARSE_ERROR = "There was an error parsing the body"


def _body_unreadable(raw_errors: Sequence[Any]) -> bool:
    """True when FastAPI could not read the body as JSON at all: malformed JSON, or a body
    under a content type other than JSON (which FastAPI hands to validation as raw bytes)."""
    return any(
        err.get("type") == "json_invalid"
        or (tuple(err.get("loc", ()))[:1] == ("body",) and isinstance(err.get("input"), bytes | bytearray))
        for err in raw_errors
    )


def _unreadable_body_response(request: Request, errors: Sequence[FieldError] = ()) -> JSONResponse:
    # 400, not 422: there is no document to point into, only bytes (RFC 9110 §15.5.1).
    return problem_response(
        UnreadableBody.status,
        UnreadableBody.slug,
        UnreadableBody.title,
        UNREADABLE_BODY_DETAIL,
        instance=request.url.path,
        errors=errors,
    )


def honours_idempotency_key(request: Request) -> bool:
    """True when the operation ``request`` reached declares the ``Idempotency-Key`` header:
    only those promise that a retry with the same key is safe."""
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and _declares_header(route.dependant, IDEMPOTENCY_KEY_HEADER)


def _declares_header(dependant: Dependant, name: str) -> bool:
    """True when ``dependant`` or one of its dependencies reads the header ``name``."""
    return any(param.alias == name for param in dependant.header_params) or any(
        _declares_header(sub, name) for sub in dependant.dependencies
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app answers problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_as_response(exc, instance=request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if _body_unreadable(exc.errors()):
            malformed = [e for e in exc.errors() if e.get("type") == "json_invalid"]
            return _unreadable_body_response(request, field_errors(malformed))
        errors = field_errors(exc.errors())
        noun = "field is" if len(errors) == 1 else "fields are"
        return problem_response(
            ValidationFailed.status,
            ValidationFailed.slug,
            ValidationFailed.title,
            f"{len(errors)} {noun} not valid; see errors.",
            instance=request.url.path,
            errors=errors,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_PARSE_ERROR:
            return _unreadable_body_response(request)
        phrase = (
            HTTPStatus(exc.status_code).phrase
            if exc.status_code in HTTPStatus._value2member_map_
            else "Error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no resource at this path."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on this path."
        return problem_response(
            exc.status_code,
            phrase.lower().replace(" ", "-"),
            phrase,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None) or {},
        )

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is down, restarting, refusing connections or out of pooled ones: a
        # passing state, not a bug, so 503 and a retry rather than 500. Only the error's
        # type is logged, never its statement or values.
        log.warning("database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return problem_response(
            DatabaseUnavailable.status,
            DatabaseUnavailable.slug,
            DatabaseUnavailable.title,
            DATABASE_UNAVAILABLE_DETAIL
            + (" " + SAFE_RETRY_WITH_KEY if honours_idempotency_key(request) else ""),
            instance=request.url.path,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        # A connection lost in use (asyncpg reports it as an InterfaceError) is the database
        # being unavailable too; any other database error is a bug, and stays a 500.
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return await on_database_unavailable(request, exc)
        raise exc

    app.add_exception_handler(OperationalError, on_database_unavailable)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(PoolTimeout, on_database_unavailable)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring problem+json for these statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }
