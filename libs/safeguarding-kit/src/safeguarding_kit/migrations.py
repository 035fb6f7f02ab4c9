"""Alembic, the same way for every service: its own script folder, its own version
table, the database URL from the service's settings (or given by the caller)."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from safeguarding_kit.db import create_db_engine, normalise_url


def alembic_config(script_location: Path, database_url: str, version_table: str) -> Config:
    """An Alembic config for one service, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    config.set_main_option("version_table", version_table)
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s_%%(rev)s")
    return config


def upgrade_to_head(script_location: Path, database_url: str, version_table: str) -> None:
    """Migrate the service's database to the newest revision."""
    command.upgrade(alembic_config(script_location, database_url, version_table), "head")


def run_migrations(target_metadata: MetaData) -> None:
    """Body of each service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    version_table = config.get_main_option("version_table") or "alembic_version"
    if not url:
        raise RuntimeError("sqlalchemy.url is not set; run migrations through the service's migrate command")
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
