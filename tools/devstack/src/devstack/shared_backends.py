"""What a stack of several replicas shares: a PostgreSQL database per service (made on the
server given, kept between runs as the SQLite files under ``data/`` are) and a Redis
server for the gateways' rate limits."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from devstack.stack import StackMisconfigured
from safeguarding_kit.db import normalise_url

# Each service's database on the server, by service.
DATABASE_NAMES = {
    "referral-api": "safeguarding_referral",
    "risk-api": "safeguarding_risk",
    "meetings-api": "safeguarding_meetings",
}


def postgres_databases(server_url: str) -> dict[str, str]:
    """The URL of each service's database on the PostgreSQL server ``server_url`` names,
    made if missing."""
    url = make_url(normalise_url(server_url))
    if not url.drivername.startswith("postgresql"):
        raise StackMisconfigured(f"{server_url!r} is not a PostgreSQL URL (postgresql+psycopg://...)")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            present = set(conn.scalars(text("SELECT datname FROM pg_database")))
            for name in DATABASE_NAMES.values():
                if name not in present:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        raise StackMisconfigured(
            f"cannot reach PostgreSQL at {url.render_as_string(hide_password=True)}: {exc.orig}"
        ) from exc
    finally:
        admin.dispose()
    return {
        service: url.set(database=name).render_as_string(hide_password=False)
        for service, name in DATABASE_NAMES.items()
    }


def rate_limit_storage(redis_url: str) -> str:
    """The gateways' ``RATE_LIMIT_STORAGE_URL`` for a Redis URL (``redis://host:port``),
    once something answers there."""
    storage = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    parsed = urlsplit(storage.removeprefix("async+"))
    if parsed.scheme not in ("redis", "rediss") or not parsed.hostname:
        raise StackMisconfigured(f"{redis_url!r} is not a Redis URL (redis://host:port)")
    address = (parsed.hostname, parsed.port or 6379)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        raise StackMisconfigured(
            "the gateways share each client's rate limits through Redis, and nothing answers at "
            f"{address[0]}:{address[1]} ({exc}): start Redis, or name it with REDIS_URL"
        ) from exc
    return storage
