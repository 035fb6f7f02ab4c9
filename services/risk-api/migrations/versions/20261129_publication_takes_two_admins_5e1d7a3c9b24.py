"""publication takes two admins: who asked for a model's publication, when, and what it
would change

Revision ID: 5e1d7a3c9b24
Revises: 9c4999c0d172
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import safeguarding_kit.db

revision: str = '5e1d7a3c9b24'
down_revision: str | None = '9c4999c0d172'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('risk_models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication_requested_by', sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column('publication_requested_at', safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('publication_request', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('risk_models', schema=None) as batch_op:
        batch_op.drop_column('publication_request')
        batch_op.drop_column('publication_requested_at')
        batch_op.drop_column('publication_requested_by')
