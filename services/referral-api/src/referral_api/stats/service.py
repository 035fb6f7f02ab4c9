"""Referral figures: grouped counts computed in the database, protected by disclosure
control for everyone but analysts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import CHILD_DIMENSIONS, GroupBy, expression
from referral_api.stats.schemas import Count, ReferralFigures, StatCell
from safeguarding_kit.disclosure import Cell, ProtectedTable, protect

NOTE = (
    "Counts from 1 to {t} are shown as c; further counts are hidden where they would let one be "
    "worked out from the totals (secondary suppression). Referrals with several concern types "
    "count once per type when grouped by concern type."
)


def grouped_counts(
    session: Session, group_by: list[GroupBy], received_from: datetime, received_to: datetime
) -> list[tuple[str, str, int]]:
    """(first dimension, second dimension or "all", count) for every non-empty group."""
    labels = [expression(g).label(f"d{i}") for i, g in enumerate(group_by)]
    stmt = select(*labels, func.count().label("n")).select_from(Referral)
    if set(group_by) & CHILD_DIMENSIONS:
        stmt = stmt.join(Child, Child.id == Referral.child_id)
    if GroupBy.concern_type in group_by:
        stmt = stmt.join(ReferralConcern, ReferralConcern.referral_id == Referral.id)
    stmt = stmt.where(Referral.received_at >= received_from, Referral.received_at < received_to)
    rows = session.execute(stmt.group_by(*labels)).all()
    return [(str(r[0]), str(r[1]) if len(group_by) > 1 else "all", int(r[-1])) for r in rows]


def _cell(table: ProtectedTable, cell: Cell, key: dict[str, str]) -> StatCell:
    reason = table.hidden.get(cell)
    count: Count = "c" if reason else table.value(cell)
    return StatCell(key=key, count=count, suppressed=reason)


def referral_figures(
    session: Session,
    group_by: list[GroupBy],
    received_from: datetime,
    received_to: datetime,
    *,
    exact: bool,
    threshold: int,
) -> ReferralFigures:
    """The figures table; ``exact`` (analysts) skips suppression."""
    counts = grouped_counts(session, group_by, received_from, received_to)
    rows = sorted({r for r, _, _ in counts})
    columns = sorted({c for _, c, _ in counts})
    matrix = [[0] * len(columns) for _ in rows]
    for r, c, n in counts:
        matrix[rows.index(r)][columns.index(c)] = n
    if not rows:
        matrix, rows, columns = [], [], []
    table = ProtectedTable(
        matrix,
        [sum(r) for r in matrix],
        [sum(matrix[i][j] for i in range(len(rows))) for j in range(len(columns))],
        sum(sum(r) for r in matrix),
    )
    if not exact and rows:
        table = protect(matrix, threshold=threshold)
    first = group_by[0].value
    second = group_by[1].value if len(group_by) > 1 else None

    def key(row: str | None, column: str | None) -> dict[str, str]:
        out = {}
        if row is not None:
            out[first] = row
        if second is not None and column is not None:
            out[second] = column
        return out

    total_reason = table.hidden.get((-1, -1))
    return ReferralFigures(
        group_by=[g.value for g in group_by],
        received_from=received_from,
        received_to=received_to,
        suppression_threshold=threshold,
        exact=exact,
        cells=[_cell(table, (i, j), key(r, c)) for i, r in enumerate(rows) for j, c in enumerate(columns)],
        row_totals=[_cell(table, (i, -1), key(r, None)) for i, r in enumerate(rows)],
        column_totals=[_cell(table, (-1, j), key(None, c)) for j, c in enumerate(columns)] if second else [],
        total="c" if total_reason else table.total,
        note="Exact figures (analyst)." if exact else NOTE.format(t=threshold),
    )
