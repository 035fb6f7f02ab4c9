"""Disclosure control for published tables (the Department for Education's
convention): counts from 1 to the threshold are shown as ``c`` (primary
suppression), and further cells are suppressed wherever a hidden count could be
worked out from the row and column totals shown (secondary suppression).

The check is exact: a hidden value is recoverable when it is fixed by the table's
linear equations (every row and column adds up to its total); that is tested with
rational arithmetic, and more cells are hidden until no hidden value is fixed.
Zeros are shown; they disclose nothing about a child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

Cell = tuple[int, int]  # (row, column); column -1 is the row total, row -1 the column total


@dataclass
class ProtectedTable:
    """A table's counts with what must be hidden, and why."""

    counts: list[list[int]]
    row_totals: list[int]
    column_totals: list[int]
    total: int
    hidden: dict[Cell, str] = field(default_factory=dict)  # cell -> "primary" | "secondary"

    def value(self, cell: Cell) -> int:
        row, column = cell
        if row == -1 and column == -1:
            return self.total
        if column == -1:
            return self.row_totals[row]
        if row == -1:
            return self.column_totals[column]
        return self.counts[row][column]


def _lines(rows: int, columns: int) -> list[tuple[list[Cell], Cell]]:
    """Each equation of the table: these cells add up to that total."""
    lines = [([(r, c) for c in range(columns)], (r, -1)) for r in range(rows)]
    lines += [([(r, c) for r in range(rows)], (-1, c)) for c in range(columns)]
    lines.append(([(r, -1) for r in range(rows)], (-1, -1)))
    lines.append(([(-1, c) for c in range(columns)], (-1, -1)))
    return lines


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix]
    rank, width = 0, len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][column] != 0:
                factor = rows[i][column] / rows[rank][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable(hidden: Sequence[Cell], rows: int, columns: int) -> list[Cell]:
    """Hidden cells whose value the shown cells and totals fix exactly."""
    unknowns = list(hidden)
    if not unknowns:
        return []
    index = {cell: i for i, cell in enumerate(unknowns)}
    equations = []
    for cells, total in _lines(rows, columns):
        row = [Fraction(0)] * len(unknowns)
        for cell in cells:
            if cell in index:
                row[index[cell]] += 1
        if total in index:
            row[index[total]] -= 1
        if any(row):
            equations.append(row)
    if not equations:
        return []
    base = _rank(equations)
    fixed = []
    for i, cell in enumerate(unknowns):
        probe = [Fraction(1) if j == i else Fraction(0) for j in range(len(unknowns))]
        if _rank([*equations, probe]) == base:  # the cell's value is a combination of the equations
            fixed.append(cell)
    return fixed


def protect(counts: list[list[int]], *, threshold: int = 5) -> ProtectedTable:
    """Which cells and totals of ``counts`` must be hidden so that no count from 1 to
    ``threshold`` is shown or can be worked out."""
    rows, columns = len(counts), len(counts[0]) if counts else 0
    table = ProtectedTable(
        counts=counts,
        row_totals=[sum(r) for r in counts],
        column_totals=[sum(counts[r][c] for r in range(rows)) for c in range(columns)],
        total=sum(sum(r) for r in counts),
    )
    every_cell = [(r, c) for r in range(rows) for c in range(-1, columns)] + [
        (-1, c) for c in range(-1, columns)
    ]
    for cell in every_cell:
        if 1 <= table.value(cell) <= threshold:
            table.hidden[cell] = "primary"

    def hide_another(line: list[Cell], total: Cell) -> bool:
        """Hide the smallest shown non-zero cell of a line (its total if none)."""
        candidates = [c for c in line if c not in table.hidden and table.value(c) > 0]
        if not candidates:
            candidates = [total] if total not in table.hidden and table.value(total) > 0 else []
        if not candidates:
            return False
        chosen = min(candidates, key=lambda c: (table.value(c), c))
        table.hidden[chosen] = "secondary"
        return True

    def hide_smallest_near_hidden() -> bool:
        shown = [c for c in every_cell if c not in table.hidden and table.value(c) > 0]
        near = [
            c
            for line, total in _lines(rows, columns)
            if any(m in table.hidden for m in (*line, total))
            for c in (*line, total)
            if c in shown
        ]
        if not (near or shown):
            return False
        table.hidden[min(near or shown, key=lambda c: (table.value(c), c))] = "secondary"
        return True

    while True:
        changed = False
        for line, total in _lines(rows, columns):
            members = [*line, total]
            if sum(1 for m in members if m in table.hidden) == 1:
                changed |= hide_another(line, total)
        if changed:
            continue
        exposed = [c for c in recoverable(list(table.hidden), rows, columns) if table.value(c) > 0]
        if not exposed:
            return table
        # A hidden count can still be worked out: hide another cell that shares an equation with it.
        for line, total in _lines(rows, columns):
            if exposed[0] in (*line, total) and hide_another(line, total):
                break
        else:
            # Every line through it is spent (the rest hidden or zero): hide the smallest count
            # still shown on a line with something hidden. Hiding more never makes a hidden
            # count recoverable, and once every non-zero count is hidden none is.
            if not hide_smallest_near_hidden():
                raise RuntimeError("could not protect the table")
