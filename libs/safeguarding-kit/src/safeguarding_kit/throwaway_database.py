"""A database that exists for one run of the tests or a benchmark: a SQLite file, or
a PostgreSQL database of its own on the server TEST_DATABASE_URL names, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safeguarding_kit.db import normalise_url

TEST_DATABASE_URL_ENV = "TEST_DATABASE_URL"


@contextmanager
def provisioned_database(label: str, workdir: Path) -> Iterator[str]:
    """A new empty database for ``label``: a SQLite file under ``workdir``, or a
    PostgreSQL database on the ``TEST_DATABASE_URL`` server, dropped afterwards."""
    server = os.environ.get(TEST_DATABASE_URL_ENV)
    if not server:
        yield f"sqlite:///{workdir / (label + '.db')}"
        return
    admin_url = make_url(normalise_url(server))
    name = f"test_{label.replace('-', '_')}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
