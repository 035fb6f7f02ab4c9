"""Several processes of a service (WORKERS, or replicas) need PostgreSQL: a SQLite database
is served by one process, and a service refuses at start to be the second."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.sqlite_single_server import SQLiteAlreadyServed, sole_server


def test_several_workers_on_sqlite_are_refused_at_start_saying_what_would_work(tmp_path):
    with pytest.raises(ValidationError, match=r"WORKERS=2 on SQLite: .*use WORKERS=1, or PostgreSQL"):
        DatabaseSettings(data_dir=tmp_path, workers=2)


def test_several_workers_on_postgresql_are_allowed(tmp_path):
    settings = DatabaseSettings(
        data_dir=tmp_path, workers=4, database_url="postgresql://referral@db.internal/referral"
    )
    assert settings.workers == 4


def test_a_second_server_of_the_same_sqlite_file_is_refused_while_the_first_serves(tmp_path):
    url = f"sqlite:///{tmp_path / 'referral.db'}"
    with (
        sole_server(url),
        pytest.raises(SQLiteAlreadyServed, match="another process is already serving"),
        sole_server(url),
    ):
        pass
    with sole_server(url):  # the first has stopped: the file may be served again
        pass


def test_another_process_is_refused_too(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'referral.db'}"
    second = textwrap.dedent(
        f"""
        from safeguarding_kit.sqlite_single_server import SQLiteAlreadyServed, sole_server
        try:
            with sole_server({url!r}):
                print("served")
        except SQLiteAlreadyServed:
            print("refused")
        """
    )
    with sole_server(url):
        refused = subprocess.run([sys.executable, "-c", second], capture_output=True, text=True, check=True)
    served = subprocess.run([sys.executable, "-c", second], capture_output=True, text=True, check=True)
    assert (refused.stdout.strip(), served.stdout.strip()) == ("refused", "served")


def test_postgresql_is_shared_by_any_number_of_processes():
    url = "postgresql+psycopg://referral@db.internal/referral"
    with sole_server(url), sole_server(url):
        pass
