"""the relay's poll reads pending deliveries through indexes of the pending rows alone

Revision ID: e1f2a3b4c5d6
Revises: d4f7bae5a236
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1f2a3b4c5d6"
down_revision: str | None = "d4f7bae5a236"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_deliveries_pending",
            ["event_seq"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.create_index(
            "ix_outbox_deliveries_pending_lanes",
            ["subscriber", "subject", "event_seq"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_deliveries_pending_lanes")
        batch_op.drop_index("ix_outbox_deliveries_pending")
