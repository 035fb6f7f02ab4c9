"""concurrency column row_version: the column optimistic concurrency (ETag / If-Match)
counts in is named row_version in every service, as the risk and meetings services
already call it; the API field stays `version`

Revision ID: 3f6a2d9c8b17
Revises: 9e4b7c2d1a68
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f6a2d9c8b17"
down_revision: str | None = "9e4b7c2d1a68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("referrals", "children", "missing_episodes", "persons_of_concern", "places_of_concern")


def upgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "version", new_column_name="row_version")


def downgrade() -> None:
    for table in TABLES:
        op.alter_column(table, "row_version", new_column_name="version")
