"""retention and legal holds: holds on a child, a person or a record class, and disposal records

Also dates a person of concern's last change (persons_of_concern.updated_at, null until
then): the retention schedule's six years count from it.

Revision ID: a1c4e7b2d903
Revises: 16846f54380c
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "a1c4e7b2d903"
down_revision: str | None = "16846f54380c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The schedule's record classes as they are today (a migration is a snapshot).
RECORD_CLASSES = (
    "exploitation_case_record",
    "looked_after_case_record",
    "no_further_action_referral",
    "missing_episode",
    "third_party_information",
    "person_of_concern",
    "place_of_concern",
    "meeting_minutes",
    "audit_record",
)


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "subject_type",
            sa.Enum(
                "child",
                "person_of_concern",
                "place_of_concern",
                "record_class",
                name="hold_subject",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column(
            "record_class",
            sa.Enum(
                *RECORD_CLASSES, name="record_class", native_enum=False, create_constraint=True, length=40
            ),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("placed_by", sa.String(length=255), nullable=False),
        sa.Column("placed_by_agency", sa.String(length=63), nullable=False),
        sa.Column("placed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=255), nullable=True),
        sa.Column("released_by_agency", sa.String(length=63), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_legal_holds_active_subject", ["released_at", "subject_type", "subject_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_legal_holds_placed_at"), ["placed_at"], unique=False)

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

    with op.batch_alter_table("persons_of_concern", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("persons_of_concern", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("disposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disposals_subject_id"))
        batch_op.drop_index(batch_op.f("ix_disposals_record_class"))
        batch_op.drop_index(batch_op.f("ix_disposals_disposed_at"))
    op.drop_table("disposals")

    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_placed_at"))
        batch_op.drop_index("ix_legal_holds_active_subject")
    op.drop_table("legal_holds")
