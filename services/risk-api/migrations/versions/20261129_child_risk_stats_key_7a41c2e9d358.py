"""child risk stats key: each child's fixed random key for the cell key method, existing
children given random keys

Revision ID: 7a41c2e9d358
Revises: 04365e057591
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7a41c2e9d358'
down_revision: str | None = '04365e057591'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A key from 0 to 255 per row, drawn by the database (the application draws new ones).
RANDOM_KEY = {
    "postgresql": "floor(random() * 256)::smallint",
    "sqlite": "abs(random()) % 256",
}


def upgrade() -> None:
    with op.batch_alter_table('child_risk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stats_key', sa.SmallInteger(), nullable=True))
    op.execute(f"UPDATE child_risk SET stats_key = {RANDOM_KEY[op.get_bind().dialect.name]}")
    with op.batch_alter_table('child_risk', schema=None) as batch_op:
        batch_op.alter_column('stats_key', existing_type=sa.SmallInteger(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('child_risk', schema=None) as batch_op:
        batch_op.drop_column('stats_key')
