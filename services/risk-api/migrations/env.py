"""Alembic environment of the risk service (run via `python -m risk_api migrate`)."""

from risk_api.models import Base
from safeguarding_kit.migrations import run_migrations

run_migrations(Base.metadata)
