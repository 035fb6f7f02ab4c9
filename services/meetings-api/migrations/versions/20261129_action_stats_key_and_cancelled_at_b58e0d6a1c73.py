"""action stats key and cancelled at: each action's fixed random key for the cell key
method (existing actions given random keys), and when an action was cancelled (existing
cancelled actions: when they were made, the earliest it can have been)

Revision ID: b58e0d6a1c73
Revises: 9c2b7a6d7d85
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import safeguarding_kit.db

revision: str = 'b58e0d6a1c73'
down_revision: str | None = '9c2b7a6d7d85'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A key from 0 to 255 per row, drawn by the database (the application draws new ones).
RANDOM_KEY = {
    "postgresql": "floor(random() * 256)::smallint",
    "sqlite": "abs(random()) % 256",
}


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stats_key', sa.SmallInteger(), nullable=True))
    op.execute(f"UPDATE actions SET stats_key = {RANDOM_KEY[op.get_bind().dialect.name]}")
    op.execute("UPDATE actions SET cancelled_at = created_at WHERE status = 'cancelled'")
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.alter_column('stats_key', existing_type=sa.SmallInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('stats_key')
        batch_op.drop_column('cancelled_at')
