"""Alembic environment of the meetings service (run via `python -m meetings_api migrate`)."""

from meetings_api.models import Base
from safeguarding_kit.migrations import run_migrations

run_migrations(Base.metadata)
