"""Occurrences of a series, generated on demand; moves, cancellations, attendance, quorum."""
