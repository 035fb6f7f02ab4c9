"""Disclosure control: no count from 1 to 5 is shown, or can be worked out from what is."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding_kit.disclosure import MAX_NOISE, NOISE_TABLE, perturbed, protect, recoverable

tables = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 4).flatmap(
        lambda columns: st.lists(
            st.lists(st.one_of(st.integers(0, 8), st.integers(0, 60)), min_size=columns, max_size=columns),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_small_count_is_shown_or_recoverable_from_the_totals(counts):
    table = protect(counts, threshold=5)
    rows, columns = len(counts), len(counts[0])
    every = [(r, c) for r in range(-1, rows) for c in range(-1, columns)]
    for cell in every:
        if cell not in table.hidden:
            assert not 1 <= table.value(cell) <= 5, cell
    for cell in recoverable(list(table.hidden), rows, columns):
        assert table.value(cell) == 0, f"{cell} = {table.value(cell)} can be worked out"


def test_a_single_small_cell_takes_a_partner_in_its_row_and_column():
    table = protect([[10, 3], [20, 30]])
    assert table.hidden == {(0, 1): "primary", (0, 0): "secondary", (1, 1): "secondary", (1, 0): "secondary"}


def test_nothing_is_hidden_when_no_count_is_small():
    assert protect([[10, 20], [30, 0]]).hidden == {}


def test_a_hidden_cell_alone_in_its_row_is_recoverable():
    assert recoverable([(0, 1)], 2, 2) == [(0, 1)]
    assert recoverable([(0, 0), (0, 1), (1, 0), (1, 1)], 2, 2) == []


def test_a_count_whose_every_line_is_spent_is_protected_by_hiding_further_afield():
    # Found by the property test: the 1 in the corner stayed recoverable once its row and
    # column had nothing left to hide but zeros.
    counts = [[1, 0, 8], [46, 13, 9], [26, 0, 0], [0, 7, 16]]
    table = protect(counts)
    assert table.hidden[(0, 0)] == "primary"
    assert all(table.value(cell) == 0 for cell in recoverable(list(table.hidden), 4, 3))


def test_the_cell_key_noise_is_small_centred_and_mostly_none():
    shares = Counter(NOISE_TABLE)
    assert set(shares) == {-2, -1, 0, 1, 2}
    assert shares[0] == 132
    assert shares[1] == shares[-1]
    assert shares[2] == shares[-2]
    assert max(map(abs, NOISE_TABLE)) == MAX_NOISE


@given(st.integers(0, 10_000), st.integers(0, 10**9))
def test_a_perturbed_count_is_within_the_noise_never_small_and_zero_stays_zero(count, key_sum):
    shown = perturbed(count, key_sum, threshold=5)
    if count == 0:
        assert shown == 0
    elif count > 5:
        assert shown > 5
        assert abs(shown - count) <= MAX_NOISE


def test_the_same_records_always_get_the_same_noise_and_other_records_other_noise():
    assert perturbed(40, 1234, threshold=5) == perturbed(40, 1234 + 256, threshold=5)  # same cell key
    noises = {perturbed(40, key, threshold=5) - 40 for key in range(256)}
    assert noises == {-2, -1, 0, 1, 2}
