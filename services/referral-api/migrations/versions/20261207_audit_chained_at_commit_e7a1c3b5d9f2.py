"""audit records staged in their transaction and chained by its commit (PostgreSQL)

Revision ID: e7a1c3b5d9f2
Revises: d0e1f2a3b4c5
Create Date: 2026-12-07 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db
from safeguarding_kit.audit import at_commit

revision: str = "e7a1c3b5d9f2"
down_revision: str | None = "d0e1f2a3b4c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("occurred_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_sub", sa.String(length=255), nullable=False),
        sa.Column("actor_agency", sa.String(length=63), nullable=False),
        sa.Column("actor_agency_type", sa.String(length=20), nullable=False),
        sa.Column("actor_roles", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("resource_type", sa.String(length=60), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("canonical_before_seq", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
    )
    # Version 1 of the trigger that chains the staged records at commit (PostgreSQL only).
    at_commit.install(op.get_bind())


def downgrade() -> None:
    at_commit.uninstall(op.get_bind())
    op.drop_table("audit_pending")
