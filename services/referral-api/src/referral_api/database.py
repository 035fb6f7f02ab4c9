"""The referral service's declarative base; its tables are its own."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from sqlalchemy import Enum
from sqlalchemy.orm import DeclarativeBase

from safeguarding_kit.audit import audit_tables
from safeguarding_kit.db import service_metadata
from safeguarding_kit.idempotency import idempotency_table

VERSION_TABLE = "referral_alembic_version"
# The service folder's migrations/ (installed editable, as `make install` and the Dockerfile do).
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class Base(DeclarativeBase):
    metadata = service_metadata()


def enum_column(cls: type[StrEnum], name: str) -> Enum:
    """A closed vocabulary stored as its values with a CHECK constraint, the same on
    SQLite and PostgreSQL (no native enum types to migrate)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
    )


# Shared mechanisms' tables, on this service's metadata so they live in its database and migrations.
IDEMPOTENCY = idempotency_table(Base.metadata)
AUDIT = audit_tables(Base.metadata)
