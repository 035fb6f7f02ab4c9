"""referrals migrated: a referral loaded from the partnership's earlier system with its
original times (POST /api/v1/referrals/migrated) is marked so; every existing referral was
received live. signposted_to is left as it was: the rows signposted before the closed list
of the agreement's services keep the free text recorded then (a migration cannot read the
agreement, and a guessed slug would rewrite history)

Revision ID: 5c3d8e1f2a47
Revises: 4b7e2c9a1f35
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c3d8e1f2a47"
down_revision: str | None = "4b7e2c9a1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("migrated", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("migrated")
