"""idempotency response headers: the first answer to a create is replayed with its ETag
and Location as well as its status and body (every create now honours Idempotency-Key);
keys stored before keep no headers, and their referral answers rebuild them from the body

Revision ID: 16846f54380c
Revises: 49216cd40f2f
Create Date: 2026-11-29 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "16846f54380c"
down_revision: str | None = "49216cd40f2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("response_headers")
