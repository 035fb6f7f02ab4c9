"""Each service's migrations build exactly the tables its models describe, on
SQLite and on PostgreSQL (whichever TEST_DATABASE_URL selects)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

import meetings_api.models
import referral_api.models
import risk_api.models
from meetings_api import database as meetings_db
from referral_api import database as referral_db
from risk_api import database as risk_db
from safeguarding_kit.db import create_db_engine
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.throwaway_database import provisioned_database

SERVICES = {
    "referral-api": (
        referral_api.models.Base.metadata,
        referral_db.MIGRATIONS_DIR,
        referral_db.VERSION_TABLE,
    ),
    "risk-api": (risk_api.models.Base.metadata, risk_db.MIGRATIONS_DIR, risk_db.VERSION_TABLE),
    "meetings-api": (
        meetings_api.models.Base.metadata,
        meetings_db.MIGRATIONS_DIR,
        meetings_db.VERSION_TABLE,
    ),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_upgrade_to_head_then_autogenerate_finds_no_difference(service: str, tmp_path: Path) -> None:
    metadata, migrations_dir, version_table = SERVICES[service]
    with provisioned_database(f"migrations-{service}", tmp_path) as url:
        upgrade_to_head(migrations_dir, url, version_table)
        engine = create_db_engine(url)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": version_table}
            )
            differences = compare_metadata(context, metadata)
        engine.dispose()
    assert differences == []


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_keeps_its_own_version_table(service: str) -> None:
    metadata: MetaData = SERVICES[service][0]
    version_table = SERVICES[service][2]
    assert version_table.startswith(service.split("-")[0])
    assert version_table not in metadata.tables
