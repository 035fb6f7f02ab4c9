"""Disclosure control for published tables (the Department for Education's
convention): counts from 1 to the threshold are shown as ``c`` (primary
suppression), and further cells are suppressed wherever a hidden count could be
worked out from the row and column totals shown (secondary suppression); every
count shown is perturbed by the cell key method (below), so that comparing tables
(nested periods, margins, windows) recovers no hidden count exactly.

The check is exact: a hidden value is recoverable when it is fixed by the table's
linear equations (every row and column adds up to its total); that is tested with
rational arithmetic, and more cells are hidden until no hidden value is fixed.
Zeros are shown; they disclose nothing about a child.
"""

from __future__ import annotations

import secrets
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


# The cell key method (Australian Bureau of Statistics' TableBuilder, ONS 2021 Census
# flexible tables): every record carries a fixed random key from 0 to 255, stored with it
# when it is made; a cell's key is the sum of its records' keys modulo 256, so the same
# set of records always gets the same small noise, and asking again, or for an
# overlapping table holding the same records, averages nothing away. A count shown to a
# caller without exact figures is its true value plus the noise this table gives for
# (count, cell key); zero stays zero (it discloses no child) and a count shown is never
# made to look like a suppressed one.
RECORD_KEY_RANGE = 256
# Of every 256 cell keys: 132 leave the count as it is, 60 add 1, 60 take 1, 2 add 2 and 2
# take 2. Published on purpose: the protection rests on the record keys being secret. The
# rare 2s keep the bound an attacker must allow for at 2 per count compared, while the
# noise that makes the bound reachable (every compared count at its extreme) is rarer
# than one comparison in ten thousand.
_NOISE_SHARES = ((0, 132), (1, 60), (-1, 60), (2, 2), (-2, 2))
MAX_NOISE = 2


def _noise_table() -> tuple[int, ...]:
    values = [noise for noise, share in _NOISE_SHARES for _ in range(share)]
    # A fixed interleaving (multiplication by an odd number permutes 0..255), so that
    # neighbouring cell keys do not share a noise.
    table = [0] * RECORD_KEY_RANGE
    for i, noise in enumerate(values):
        table[(i * 97) % RECORD_KEY_RANGE] = noise
    return tuple(table)


NOISE_TABLE = _noise_table()


def cell_key(record_key_sum: int) -> int:
    """A cell's key from the sum of its records' keys."""
    return record_key_sum % RECORD_KEY_RANGE


def perturbed(count: int, key_sum: int, *, threshold: int) -> int:
    """The count as shown to a caller without exact figures: ``count`` plus the noise of
    its cell key (looked up in a row that depends on the count), never below
    ``threshold + 1`` for a count above the threshold, and zero for zero. Counts from 1
    to the threshold are suppressed, never shown, so they are not perturbed here."""
    if count == 0:
        return 0
    noise = NOISE_TABLE[(cell_key(key_sum) + 61 * min(count, 64)) % RECORD_KEY_RANGE]
    shown = count + noise
    return max(shown, threshold + 1) if count > threshold else shown


def new_record_key() -> int:
    """A record's fixed random key for the cell key method, drawn when the record is made."""
    return secrets.randbelow(RECORD_KEY_RANGE)
