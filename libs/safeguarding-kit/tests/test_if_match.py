"""Optimistic concurrency: an update names the version it read, or changes nothing."""

from __future__ import annotations

import pytest

from safeguarding_kit.concurrency import PreconditionRequired, StaleWrite, check_if_match


@pytest.mark.parametrize("if_match", ['"3"', 'W/"3"', '"2", "3"'])
def test_an_update_naming_the_current_version_passes(if_match):
    check_if_match(if_match, 3)


@pytest.mark.parametrize("if_match", [None, "*", '"3", *', " * "])
def test_an_update_without_a_specific_etag_is_428(if_match):
    with pytest.raises(PreconditionRequired):
        check_if_match(if_match, 3)


def test_an_update_from_a_stale_version_is_412():
    with pytest.raises(StaleWrite):
        check_if_match('"2"', 3)
