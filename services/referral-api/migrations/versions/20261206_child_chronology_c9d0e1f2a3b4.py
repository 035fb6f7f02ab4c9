"""child chronology: each child's steps across the platform, kept from the services' events

One row per step (ids, kinds, levels and dates in ``details``; never a name or free text).
An entry about a disruption action refers to it, so it goes with the action.

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-12-06 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The kinds as they stand today (a migration must not change with the code).
KINDS = (
    "referral_received",
    "referral_status_changed",
    "missing_reported",
    "missing_found",
    "return_home_interview",
    "risk_assessed",
    "risk_level_changed",
    "meeting_decision",
    "meeting_action_agreed",
    "meeting_action_closed",
    "meeting_action_reopened",
    "support_offered",
    "support_started",
    "support_ended",
    "disruption_recorded",
)


def upgrade() -> None:
    op.create_table(
        "chronology_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="chronology_kind", native_enum=False, create_constraint=True, length=40),
            nullable=False,
        ),
        sa.Column("occurred_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("disruption_action_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_chronology_entries_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["disruption_action_id"],
            ["disruption_actions.id"],
            name=op.f("fk_chronology_entries_disruption_action_id_disruption_actions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chronology_entries")),
    )
    with op.batch_alter_table("chronology_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chronology_entries_child_id_occurred_at", ["child_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_chronology_entries_disruption_action_id"), ["disruption_action_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chronology_entries_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chronology_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chronology_entries_event_id"))
        batch_op.drop_index(batch_op.f("ix_chronology_entries_disruption_action_id"))
        batch_op.drop_index("ix_chronology_entries_child_id_occurred_at")
    op.drop_table("chronology_entries")
