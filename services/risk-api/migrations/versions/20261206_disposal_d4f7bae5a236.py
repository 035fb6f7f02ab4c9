"""disposal: a disposed child's assessments kept as de-identified facts, and disposal records

Revision ID: d4f7bae5a236
Revises: eed98a3ad2fe
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "d4f7bae5a236"
down_revision: str | None = "eed98a3ad2fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ("low", "medium", "high")


def upgrade() -> None:
    op.create_table(
        "disposed_assessment_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_key", sa.Uuid(), nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.Column("assessed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "computed_level",
            sa.Enum(*LEVELS, name="computed_level", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.Column(
            "final_level",
            sa.Enum(*LEVELS, name="final_level", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.Column("override_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposed_assessment_facts")),
    )
    with op.batch_alter_table("disposed_assessment_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disposed_assessment_facts_assessed_at"), ["assessed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disposed_assessment_facts_subject_key"), ["subject_key"], unique=False
        )

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


def downgrade() -> None:
    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposals_subject_id"))
        batch_op.drop_index(batch_op.f("ix_disposals_record_class"))
        batch_op.drop_index(batch_op.f("ix_disposals_disposed_at"))
    op.drop_table("disposals")

    with op.batch_alter_table("disposed_assessment_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposed_assessment_facts_subject_key"))
        batch_op.drop_index(batch_op.f("ix_disposed_assessment_facts_assessed_at"))
    op.drop_table("disposed_assessment_facts")
