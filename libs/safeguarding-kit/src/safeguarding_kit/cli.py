"""The command line every service has: ``migrate``, ``serve`` and ``relay``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TypeVar

import uvicorn
from alembic import command
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from safeguarding_kit.events import EventTables
from safeguarding_kit.keep_alive import SERVER_KEEP_ALIVE_SECONDS
from safeguarding_kit.migrations import alembic_config, upgrade_to_head
from safeguarding_kit.relay_app import create_relay_app
from safeguarding_kit.settings import DatabaseSettings, ProcessSettings
from safeguarding_kit.sqlite_single_server import SQLiteAlreadyServed, sole_server
from safeguarding_kit.start_up_heap import mark_served_process

S = TypeVar("S", bound=ProcessSettings)


def service_main(
    *,
    load_settings: Callable[[], DatabaseSettings],
    create_app: Callable[[DatabaseSettings], FastAPI],
    migrations_dir: Path,
    version_table: str,
    after_migrate: Callable[[str], None] | None = None,
    events: EventTables | None = None,
    argv: list[str] | None = None,
) -> None:
    """``python -m <service> migrate|serve|relay|revision -m MESSAGE``; settings come from
    the environment. ``revision`` autogenerates a migration from the models;
    ``after_migrate`` (given the database URL) installs reference data; ``relay`` runs the
    outbox relay of ``events`` as a process of its own (:mod:`safeguarding_kit.relay_app`)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["migrate", "serve", "relay", "revision"])
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = settings.resolved_database_url()
    if args.command == "relay":
        if events is None:
            raise SystemExit(f"{settings.service_name}: this service has no outbox to relay")
        if not make_url(url).drivername.startswith("postgresql"):
            raise SystemExit(
                f"{settings.service_name}: a relay of its own needs PostgreSQL "
                "(DATABASE_URL=postgresql://...): a SQLite database is served by one process, "
                "whose relay is a thread of serve (EVENTS_RELAY_ENABLED=true, the default)"
            )
        # One process: more relays are more replicas of this one, sharing the outbox.
        serve(partial(create_relay_app, events=events), settings, workers=1)
        return
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
    with ExitStack() as serving:
        try:
            serving.enter_context(sole_server(url))
        except SQLiteAlreadyServed as exc:
            raise SystemExit(f"{settings.service_name}: {exc}") from exc
        serve(create_app, settings, workers=settings.workers)


def serve(
    create_app: Callable[[S], FastAPI],
    settings: S,
    *,
    workers: int,
    http: type[asyncio.Protocol] | str = "auto",
    max_request_head_bytes: int | None = None,
) -> None:
    """Serve ``create_app(settings)`` with uvicorn on the settings' host and port, in
    ``workers`` processes. Several workers need the app built in each of them, hence the
    factory by name (it reads the same settings from the environment there). ``http`` is
    uvicorn's HTTP protocol (``auto``: httptools where installed) and
    ``max_request_head_bytes`` what it buffers of a request's head (uvicorn's
    ``h11_max_incomplete_event_size``: its h11 parser keeps it, httptools does not unless
    ``http`` is a protocol that does). An idle connection is kept open longer than its
    clients keep it (``keep_alive.py``), so none is closed under a request sent on it.
    Each process freezes its start-up objects once started (``start_up_heap.py``)."""
    mark_served_process()
    uvicorn.run(
        factory_name(create_app) if workers > 1 else create_app(settings),
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=SERVER_KEEP_ALIVE_SECONDS,
        http=http,
        h11_max_incomplete_event_size=max_request_head_bytes,
    )


def factory_name(create_app: Callable[..., FastAPI]) -> str:
    """``module:function`` for uvicorn to import ``create_app`` by in each worker process."""
    return f"{create_app.__module__}:{create_app.__qualname__}"
