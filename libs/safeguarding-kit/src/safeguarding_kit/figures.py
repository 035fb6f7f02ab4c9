"""Tables of counts as every service publishes them: cells keyed by one or two
dimensions, row and column totals, and disclosure control applied for everyone but
analysts (:mod:`safeguarding_kit.disclosure`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import UtcTimestamp, utc_now
from safeguarding_kit.disclosure import Cell, ProtectedTable, protect
from safeguarding_kit.problems import FieldError, Forbidden, Problem

Count = int | Literal["c"]

SUPPRESSION_NOTE = (
    "Counts from 1 to {t} are shown as c; further counts are hidden where they would let one be "
    "worked out from the totals (secondary suppression)."
)


class FigureCell(BaseModel):
    key: dict[str, str] = Field(description="The group's value for each dimension.")
    count: Count = Field(description="The count, or `c` when suppressed.")
    suppressed: Literal["primary", "secondary"] | None = Field(
        None,
        description="primary: a count from 1 to the threshold; secondary: hidden so that a primary one "
        "cannot be worked out from the totals.",
    )


class FigureTable(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dimensions": ["current_level"],
                    "suppression_threshold": 5,
                    "exact": False,
                    "cells": [
                        {"key": {"current_level": "high"}, "count": "c", "suppressed": "secondary"},
                        {"key": {"current_level": "low"}, "count": "c", "suppressed": "primary"},
                        {"key": {"current_level": "medium"}, "count": 48, "suppressed": None},
                    ],
                    "row_totals": [],
                    "column_totals": [],
                    "total": 61,
                    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where "
                    "they would let one be worked out from the totals (secondary suppression).",
                }
            ]
        }
    )

    dimensions: list[str]
    suppression_threshold: int
    exact: bool = Field(description="True for analysts: nothing is suppressed.")
    cells: list[FigureCell]
    row_totals: list[FigureCell]
    column_totals: list[FigureCell]
    total: Count
    note: str


def _cell(table: ProtectedTable, cell: Cell, key: dict[str, str]) -> FigureCell:
    reason = table.hidden.get(cell)
    if reason == "primary":
        return FigureCell(key=key, count="c", suppressed="primary")
    if reason == "secondary":
        return FigureCell(key=key, count="c", suppressed="secondary")
    return FigureCell(key=key, count=table.value(cell))


def figure_table(
    counts: Sequence[tuple[str, str, int]],
    dimensions: Sequence[str],
    *,
    exact: bool,
    threshold: int,
    note: str = "",
) -> FigureTable:
    """A table from (first value, second value or "all", count) triples; zero-filled."""
    rows = sorted({r for r, _, _ in counts})
    columns = sorted({c for _, c, _ in counts})
    matrix = [[0] * len(columns) for _ in rows]
    for r, c, n in counts:
        matrix[rows.index(r)][columns.index(c)] += n
    if exact or not rows:
        table = ProtectedTable(
            matrix,
            [sum(r) for r in matrix],
            [sum(matrix[i][j] for i in range(len(rows))) for j in range(len(columns))],
            sum(sum(r) for r in matrix),
        )
    else:
        table = protect(matrix, threshold=threshold)
    first = dimensions[0]
    second = dimensions[1] if len(dimensions) > 1 else None

    def key(row: str | None, column: str | None) -> dict[str, str]:
        out = {first: row} if row is not None else {}
        if second is not None and column is not None:
            out[second] = column
        return out

    total = _cell(table, (-1, -1), {})
    return FigureTable(
        dimensions=list(dimensions),
        suppression_threshold=threshold,
        exact=exact,
        cells=[_cell(table, (i, j), key(r, c)) for i, r in enumerate(rows) for j, c in enumerate(columns)],
        row_totals=[_cell(table, (i, -1), key(r, None)) for i, r in enumerate(rows)],
        column_totals=[_cell(table, (-1, j), key(None, c)) for j, c in enumerate(columns)] if second else [],
        total=total.count,
        note=("Exact figures (analyst). " if exact else SUPPRESSION_NOTE.format(t=threshold) + " ") + note,
    )


MAX_RANGE = timedelta(days=3653)
NOT_MODIFIED: dict[int | str, dict[str, object]] = {304: {"description": "Not modified (If-None-Match)"}}
From = Annotated[UtcTimestamp | None, Query(alias="from", description="Default: a year before to.")]
To = Annotated[UtcTimestamp | None, Query(alias="to", description="Default: now.")]


class InvalidRange(Problem):
    status, slug, title = 422, "invalid-range", "Date range not possible"


def checked_range(
    principal: Principal, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """The period asked for (a year to now by default), refused when back to front or
    over 10 years, for callers with at least one role."""
    if not principal.roles:
        raise Forbidden("Statistics need a role on the platform.")
    to = end or utc_now()
    since = start or to - timedelta(days=365)
    if to <= since:
        raise InvalidRange(
            "The range must end after it starts.",
            errors=[FieldError(detail="must be after from", parameter="to", location="query")],
        )
    if to - since > MAX_RANGE:
        raise InvalidRange(
            "Ask for at most 10 years at a time.",
            errors=[FieldError(detail="at most 10 years after from", parameter="to", location="query")],
        )
    return since, to


def threshold_of(request: Request) -> int:
    """The suppression threshold the process is configured with."""
    return int(getattr(request.app.state.settings, "stats_suppression_threshold", 5))


def cacheable(request: Request, body: BaseModel) -> Response:
    """The figures with an ETag and a short private cache lifetime; 304 when unchanged."""
    text = body.model_dump_json().encode()
    tag = '"' + hashlib.sha256(text).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=60", "Vary": "Authorization"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return JSONResponse(body.model_dump(mode="json"), headers=headers)
