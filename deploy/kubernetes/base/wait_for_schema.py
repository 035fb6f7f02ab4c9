"""Wait until a service's database carries this release's newest migration.

Run by each service's init container (``python wait_for_schema.py <package>``, with
``DATABASE_URL``), so that pods of a new release start serving only once the release's
migration Job has brought the schema to head; it reads, never migrates. A database at a
revision this release does not know is newer (a rollback to an earlier image): the
previous release's schema is expected to serve it, so the pod starts.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from safeguarding_kit.db import create_db_engine
from safeguarding_kit.migrations import alembic_config

POLL_SECONDS = float(os.environ.get("WAIT_FOR_SCHEMA_POLL_SECONDS", "5"))


def main(package: str) -> None:
    database = importlib.import_module(f"{package}.database")
    url = os.environ["DATABASE_URL"]
    config = alembic_config(database.MIGRATIONS_DIR, url, database.VERSION_TABLE)
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    known = {revision.revision for revision in scripts.walk_revisions()}
    engine = create_db_engine(url)
    try:
        while True:
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"version_table": database.VERSION_TABLE}
                )
                current = context.get_current_revision()
            if current == head:
                print(f"{package}: schema at {head}", flush=True)
                return
            if current is not None and current not in known:
                print(f"{package}: schema at {current}, newer than this release's {head}", flush=True)
                return
            print(f"{package}: schema at {current}, waiting for the migration Job: {head}", flush=True)
            time.sleep(POLL_SECONDS)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
