"""The referral service's declarative base; its tables are its own."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import DeclarativeBase

from safeguarding_kit.audit.models import audit_tables
from safeguarding_kit.db import service_metadata
from safeguarding_kit.events import event_tables
from safeguarding_kit.idempotency import idempotency_table
from safeguarding_kit.retention.records import disposal_table

VERSION_TABLE = "referral_alembic_version"
# The service folder's migrations/ (installed editable, as `make install` and the Dockerfile do).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


# Shared mechanisms' tables, on this service's metadata so they live in its database and migrations.
IDEMPOTENCY = idempotency_table(Base.metadata)
AUDIT = audit_tables(Base.metadata)
EVENTS = event_tables(Base.metadata)
# What went under the retention schedule, never its content (referral_api.retention).
DISPOSALS = disposal_table(Base.metadata)
