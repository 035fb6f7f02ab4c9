"""disposal: legal holds heard from the referral service, disposal records, and when each
meeting's minutes went

Revision ID: e5a8cbf6b347
Revises: 54b314924a20
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "e5a8cbf6b347"
down_revision: str | None = "54b314924a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_holds",
        sa.Column("hold_id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("record_class", sa.String(length=40), nullable=True),
        sa.Column("placed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_retention_holds")),
    )
    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_holds_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_retention_holds_subject_type"), ["subject_type"], unique=False)

    op.create_table(
        "disposals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_class", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("schedule_version", sa.String(length=40), nullable=False),
        sa.Column("disposed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposals")),
    )
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disposals_disposed_at"), ["disposed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_disposals_record_class"), ["record_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_disposals_subject_id"), ["subject_id"], unique=False)

    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("minutes_disposed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_column("minutes_disposed_at")

    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposals_subject_id"))
        batch_op.drop_index(batch_op.f("ix_disposals_record_class"))
        batch_op.drop_index(batch_op.f("ix_disposals_disposed_at"))
    op.drop_table("disposals")

    with op.batch_alter_table("retention_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retention_holds_subject_type"))
        batch_op.drop_index(batch_op.f("ix_retention_holds_subject_id"))
    op.drop_table("retention_holds")
