"""Tables of counts as every service publishes them: cells keyed by one or two
dimensions (every category listed), row and column totals, the period counted, and
disclosure control for everyone but `exact_figures` analysts
(:mod:`safeguarding_kit.disclosure`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now
from safeguarding_kit.disclosure import MAX_NOISE, Cell, ProtectedTable, perturbed, protect
from safeguarding_kit.partnership.policy import FigureReader, Permission, allows
from safeguarding_kit.periods import PERIOD_HELP, DayOrInstant, InvalidPeriod, Window, reporting_window
from safeguarding_kit.problems import FieldError, Problem

SUPPRESSION_NOTE = (
    "Counts from 1 to {t} are shown as c; further counts are hidden where they would let one be "
    "worked out from the totals (secondary suppression); every count shown is perturbed by at most "
    "{noise} by the cell key method, so totals need not add up exactly."
)


class FigureCell(BaseModel):
    """One count of a table, the same shape in every figure the platform publishes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"key": {"quarter": "2025-26-Q1"}, "count": 14, "suppressed": None, "display": "14"},
                {"key": {"quarter": "2025-26-Q2"}, "count": None, "suppressed": "primary", "display": "c"},
            ]
        }
    )

    key: dict[str, str] = Field(description="The group's value for each dimension ({} for the grand total).")
    count: int | None = Field(
        description="The count shown: exact for `exact_figures` analysts, otherwise perturbed by the "
        "cell key method; null when suppressed."
    )
    suppressed: Literal["primary", "secondary"] | None = Field(
        None,
        description="primary: a count from 1 to the threshold; secondary: hidden so that a primary one "
        "cannot be worked out from the totals; null when shown.",
    )
    display: str = Field(description="What a published table prints: the count, or `c` when suppressed.")


def shown_cell(key: dict[str, str], count: int) -> FigureCell:
    return FigureCell(key=key, count=count, suppressed=None, display=str(count))


def hidden_cell(key: dict[str, str], reason: Literal["primary", "secondary"]) -> FigureCell:
    return FigureCell(key=key, count=None, suppressed=reason, display="c")


class FigurePeriod(BaseModel):
    label: str = Field(
        description="The reporting period (`2025-26`, `2025-26-Q1`, `2025-11`...) or the window asked for.",
        examples=["2025-26"],
    )
    start: datetime = Field(alias="from", description="Start of the window (midnight in England).")
    end: datetime = Field(alias="to", description="End of the window (exclusive).")
    as_of: datetime = Field(
        description="Nothing received after this is counted: the end of the window, or for callers "
        "without exact figures a period still open is counted to the start of the current month."
    )

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


def period_of(window: Window) -> FigurePeriod:
    return FigurePeriod(label=window.label, start=window.start, end=window.end, as_of=window.as_of)


class FigureTable(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dimensions": ["current_level"],
                    "period": None,
                    "suppression_threshold": 5,
                    "exact": False,
                    "cells": [
                        {
                            "key": {"current_level": "high"},
                            "count": None,
                            "suppressed": "secondary",
                            "display": "c",
                        },
                        {
                            "key": {"current_level": "low"},
                            "count": None,
                            "suppressed": "primary",
                            "display": "c",
                        },
                        {
                            "key": {"current_level": "medium"},
                            "count": 48,
                            "suppressed": None,
                            "display": "48",
                        },
                    ],
                    "row_totals": [],
                    "column_totals": [],
                    "total": {"key": {}, "count": 61, "suppressed": None, "display": "61"},
                    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where "
                    "they would let one be worked out from the totals (secondary suppression).",
                }
            ]
        }
    )

    dimensions: list[str]
    period: FigurePeriod | None = Field(None, description="The window counted, where the figure has one.")
    suppression_threshold: int
    exact: bool = Field(description="True for `exact_figures` analysts: nothing is suppressed or perturbed.")
    cells: list[FigureCell] = Field(
        description="Every combination of the dimensions' categories, zeros included."
    )
    row_totals: list[FigureCell]
    column_totals: list[FigureCell]
    total: FigureCell
    note: str


GroupCount = tuple[str, str, int, int]
"""(first dimension's value, second's or "all", count, sum of the records' keys)."""


def figure_table(
    counts: Sequence[GroupCount],
    dimensions: Sequence[str],
    *,
    exact: bool,
    threshold: int,
    rows: Sequence[str] = (),
    columns: Sequence[str] = (),
    window: Window | None = None,
    note: str = "",
) -> FigureTable:
    """A table from grouped counts, with every category of ``rows`` and ``columns`` listed
    (zeros included, so that a category's presence reveals nothing) and any value counted
    beyond them after. Callers without exact figures get it protected: primary and
    secondary suppression, and every count shown perturbed by its cell key."""
    row_values = list(dict.fromkeys([*rows, *sorted({r for r, _, _, _ in counts} - set(rows))]))
    column_values = list(dict.fromkeys([*columns, *sorted({c for _, c, _, _ in counts} - set(columns))])) or [
        "all"
    ]
    matrix = [[0] * len(column_values) for _ in row_values]
    keys = [[0] * len(column_values) for _ in row_values]
    for r, c, n, k in counts:
        i, j = row_values.index(r), column_values.index(c)
        matrix[i][j] += n
        keys[i][j] += k
    row_keys = [sum(line) for line in keys]
    column_keys = [sum(keys[i][j] for i in range(len(row_values))) for j in range(len(column_values))]
    key_sum = {(i, j): keys[i][j] for i in range(len(row_values)) for j in range(len(column_values))}
    key_sum |= {(i, -1): k for i, k in enumerate(row_keys)}
    key_sum |= {(-1, j): k for j, k in enumerate(column_keys)}
    key_sum[(-1, -1)] = sum(row_keys)
    if exact or not row_values:
        table = ProtectedTable(
            matrix,
            [sum(r) for r in matrix],
            [sum(matrix[i][j] for i in range(len(row_values))) for j in range(len(column_values))],
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

    def cell(position: Cell, cell_key: dict[str, str]) -> FigureCell:
        reason = table.hidden.get(position)
        if reason is not None:
            return hidden_cell(cell_key, "primary" if reason == "primary" else "secondary")
        value = table.value(position)
        return shown_cell(
            cell_key, value if exact else perturbed(value, key_sum[position], threshold=threshold)
        )

    return FigureTable(
        dimensions=list(dimensions),
        period=period_of(window) if window is not None else None,
        suppression_threshold=threshold,
        exact=exact,
        cells=[
            cell((i, j), key(r, c)) for i, r in enumerate(row_values) for j, c in enumerate(column_values)
        ],
        row_totals=[cell((i, -1), key(r, None)) for i, r in enumerate(row_values)],
        column_totals=[cell((-1, j), key(None, c)) for j, c in enumerate(column_values)] if second else [],
        total=cell((-1, -1), {}),
        note=("Exact figures. " if exact else SUPPRESSION_NOTE.format(t=threshold, noise=MAX_NOISE) + " ")
        + note,
    )


def protected_count(
    count: int, key_sum: int, *, exact: bool, threshold: int, key: dict[str, str]
) -> FigureCell:
    """One count on its own (a share's numerator or denominator, say), protected as a table's
    cell is: exact, or ``c`` from 1 to the threshold, or perturbed by its cell key."""
    if exact:
        return shown_cell(key, count)
    if 1 <= count <= threshold:
        return hidden_cell(key, "primary")
    return shown_cell(key, perturbed(count, key_sum, threshold=threshold))


NOT_MODIFIED: dict[int | str, dict[str, object]] = {304: {"description": "Not modified (If-None-Match)"}}
PeriodParam = Annotated[
    str | None,
    Query(description=PERIOD_HELP + " Default (without from/to): the current financial year."),
]


FromParam = Annotated[
    DayOrInstant | None,
    Query(
        alias="from",
        description="Start of the window: a date (midnight in England) or a time with its offset. "
        "Without exact-figure rights, the first of a month.",
    ),
]
ToParam = Annotated[
    DayOrInstant | None,
    Query(alias="to", description="End of the window (exclusive), as `from`. Default: now."),
]


class InvalidRange(Problem):
    """The figures' `period`, `from` or `to` is not a reporting period or window that can be
    counted; `errors` names the parameter."""

    status, slug, title = 422, "invalid-range", "Date range not possible"


async def figure_window(
    principal: FigureReader, period: PeriodParam = None, start: FromParam = None, end: ToParam = None
) -> Window:
    """The window a figure request covers (:func:`safeguarding_kit.periods.reporting_window`),
    or 422 naming the parameter that is wrong."""
    try:
        return reporting_window(
            period=period,
            start=start,
            end=end,
            exact=allows(principal, Permission.read_exact_figures),
            now=utc_now(),
        )
    except InvalidPeriod as exc:
        parameter, _, detail = str(exc).partition(": ")
        raise InvalidRange(
            detail, errors=[FieldError(detail=detail, parameter=parameter, location="query")]
        ) from exc


FigureWindow = Annotated[Window, Depends(figure_window)]


def exact_for(principal: Principal) -> bool:
    """Whether the caller reads figures without disclosure control."""
    return allows(principal, Permission.read_exact_figures)


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
