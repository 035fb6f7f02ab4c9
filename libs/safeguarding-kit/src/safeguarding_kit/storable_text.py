"""Refuse text no database here can store: a NUL character (U+0000).

PostgreSQL's text types cannot hold it (psycopg refuses the statement), SQLite would
store it and truncate it in some clients, and no field of a safeguarding record has a
use for one. Checked once for every request, before any handler runs, over the query
and path parameters and every string (and key) of a JSON body, so that the answer is
a 422 naming the field rather than a 500 from the database halfway through a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

NUL = "\x00"
_MESSAGE = "must not contain a NUL character (U+0000)"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every string in ``value`` (a parsed JSON document) holding a NUL."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield (*path, key)
            else:
                yield from _nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, index))


def _error(location: str, *path: str | int) -> dict[str, Any]:
    return {"type": "string_nul", "loc": (location, *path), "msg": _MESSAGE, "input": None}


async def refuse_unstorable_text(request: Request) -> None:
    """A FastAPI dependency for the whole app: 422 (validation error) for a NUL anywhere
    in the request's parameters or JSON body."""
    errors = [_error("query", name) for name, value in request.query_params.multi_items() if NUL in value]
    errors += [_error("path", name) for name, value in request.path_params.items() if NUL in str(value)]
    if request.method in _BODY_METHODS and "json" in request.headers.get("content-type", ""):
        body = await request.body()  # read once already by FastAPI, and kept
        if b"\\u0000" in body:  # the only way JSON can carry a NUL; most bodies stop here
            try:
                document = await request.json()
            except ValueError:  # not JSON: the route's own parsing says so, or it takes no body
                document = None
            errors += [_error("body", *path) for path in _nul_paths(document)]
    if errors:
        raise RequestValidationError(errors)
