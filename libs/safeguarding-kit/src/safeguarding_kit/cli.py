"""The command line every service has: ``migrate`` and ``serve``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import uvicorn
from alembic import command
from fastapi import FastAPI

from safeguarding_kit.migrations import alembic_config, upgrade_to_head
from safeguarding_kit.settings import DatabaseSettings


def service_main(
    *,
    load_settings: Callable[[], DatabaseSettings],
    create_app: Callable[[DatabaseSettings], FastAPI],
    migrations_dir: Path,
    version_table: str,
    after_migrate: Callable[[str], None] | None = None,
    argv: list[str] | None = None,
) -> None:
    """``python -m <service> migrate|serve|revision -m MESSAGE``; settings come from the
    environment. ``revision`` autogenerates a migration from the models;
    ``after_migrate`` (given the database URL) installs reference data."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["migrate", "serve", "revision"])
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url()
    if args.command == "migrate":
        upgrade_to_head(migrations_dir, url, version_table)
        if after_migrate is not None:
            after_migrate(url)
        return
    if args.command == "revision":
        upgrade_to_head(migrations_dir, url, version_table)
        command.revision(
            alembic_config(migrations_dir, url, version_table),
            message=args.message,
            autogenerate=True,
        )
        return
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
