"""A served process freezes its start-up objects once started, so that the collector's full
collections (which stopped every request for 100 ms and more) no longer walk them; a process
that is not served (a test run starting hundreds of apps) never does."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from safeguarding_kit import cli
from safeguarding_kit.start_up_heap import SERVED_PROCESS_ENV, freeze_start_up_objects, mark_served_process


@pytest.fixture
def not_served(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SERVED_PROCESS_ENV, "0")  # restored (unset) afterwards, whoever set it
    yield
    gc.unfreeze()  # give the test run its objects back


def test_a_process_that_is_not_served_freezes_nothing(not_served: None) -> None:
    before = gc.get_freeze_count()
    assert freeze_start_up_objects() is False
    assert gc.get_freeze_count() == before


def test_a_served_process_freezes_what_is_alive_and_full_collections_then_walk_none_of_it(
    not_served: None,
) -> None:
    mark_served_process()
    gc.collect()
    oldest_before = len(gc.get_objects(generation=2))
    assert freeze_start_up_objects() is True
    assert gc.get_freeze_count() > oldest_before // 2
    assert len(gc.get_objects(generation=2)) < oldest_before // 10


def test_serve_marks_the_process_before_uvicorn_starts_it(
    not_served: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marked through the environment, which uvicorn's worker processes inherit."""
    started: list[bool] = []

    def run(*_args: Any, **_kwargs: Any) -> None:
        started.append(freeze_start_up_objects())

    monkeypatch.setattr("safeguarding_kit.cli.uvicorn.run", run)
    settings = type("Settings", (), {"host": "127.0.0.1", "port": 0})()
    cli.serve(lambda _settings: None, settings, workers=1)  # type: ignore[arg-type, return-value]
    assert started == [True]
