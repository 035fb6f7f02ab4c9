"""What the platform keeps in local files (the SQLite databases with children's names, the
development issuer's signing key) is readable by the user running it only: another account
on the same machine reads none of it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair
from safeguarding_kit.db import create_db_engine


def permissions(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_the_files_beside_it_are_its_owners_only(tmp_path: Path) -> None:
    database = tmp_path / "data" / "referral.db"
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:  # a write in WAL mode: the -wal and -shm files appear
            conn.execute(text("CREATE TABLE children (name TEXT)"))
            conn.execute(text("INSERT INTO children VALUES ('Amelia Smith')"))
        companions = [Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(file.exists() for file in companions)
        assert {file.name: permissions(file) for file in [database, *companions]} == {
            "referral.db": 0o600,
            "referral.db-wal": 0o600,
            "referral.db-shm": 0o600,
        }
    finally:
        engine.dispose()


def test_a_database_left_readable_by_everyone_is_narrowed_when_the_service_opens_it(tmp_path: Path) -> None:
    database = tmp_path / "referral.db"
    for file in (database, Path(f"{database}-wal")):
        file.touch()
        os.chmod(file, 0o644)
    create_db_engine(f"sqlite:///{database}").dispose()
    assert permissions(database) == 0o600
    assert permissions(Path(f"{database}-wal")) == 0o600


def test_the_development_issuers_key_is_its_owners_only(tmp_path: Path) -> None:
    private_key = ensure_dev_key_pair(tmp_path / "dev-issuer")
    assert permissions(private_key) == 0o600
    assert permissions(private_key.parent) == 0o700
