"""Alembic environment of the referral service (run via `python -m referral_api migrate`)."""

from referral_api.models import Base
from safeguarding_kit.migrations import run_migrations

run_migrations(Base.metadata)
