"""support and disruption facts: de-identified facts of disposed supports and disruption actions

What the support figures read about a support (kind, provider service and agency slugs, when
it was requested, started and ended and when each was recorded, why it ended, the child's risk
level at each end) and its contacts (day, kind of place, engagement, when recorded), kept when
the child's record is disposed of; what the disruption figures read about an action (kind, day,
whether it counted as a charge or a conviction, when recorded), kept when the person or place of
concern it is against is disposed of. No name, date of birth, identifier, free text, agency
person or record id; each fact has a random id of its own. Indexed on the times the figures'
windows filter by.

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabularies as they stand today (a migration must not change with the code).
SUPPORT_KINDS = (
    "one_to_one_exploitation_work",
    "advocacy",
    "sexual_health",
    "emotional_wellbeing",
    "therapeutic_post_abuse_support",
    "missing_advocate_follow_up",
    "education_or_training_support",
    "family_support",
    "group_work",
)
END_REASONS = (
    "goals_met",
    "child_declined",
    "disengaged",
    "moved_away",
    "transferred_to_another_service",
    "became_adult",
    "other",
)
RISK_LEVELS = ("low", "medium", "high")
SETTINGS = (
    "school",
    "community_venue",
    "home",
    "placement_out_of_area",
    "secure_unit",
    "online",
    "other",
)
ENGAGEMENTS = ("engaged", "partly_engaged", "not_engaged", "did_not_attend")


def _vocabulary(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _time(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, safeguarding_kit.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "support_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", _vocabulary(SUPPORT_KINDS, "support_kind"), nullable=False),
        sa.Column("provider_service", sa.String(length=63), nullable=True),
        sa.Column("provider_agency", sa.String(length=63), nullable=True),
        _time("requested_at", nullable=False),
        _time("started_at", nullable=True),
        _time("ended_at", nullable=True),
        sa.Column("end_reason", _vocabulary(END_REASONS, "support_end_reason"), nullable=True),
        _time("start_recorded_at", nullable=True),
        _time("end_recorded_at", nullable=True),
        sa.Column("risk_level_at_start", _vocabulary(RISK_LEVELS, "risk_level_at_start"), nullable=True),
        sa.Column("risk_level_at_end", _vocabulary(RISK_LEVELS, "risk_level_at_end"), nullable=True),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_facts")),
    )
    with op.batch_alter_table("support_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_facts_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_facts_ended_at"), ["ended_at"], unique=False)

    op.create_table(
        "support_contact_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("support_fact_id", sa.Uuid(), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("setting", _vocabulary(SETTINGS, "contact_setting"), nullable=False),
        sa.Column("engagement", _vocabulary(ENGAGEMENTS, "contact_engagement"), nullable=False),
        _time("recorded_at", nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["support_fact_id"],
            ["support_facts.id"],
            name=op.f("fk_support_contact_facts_support_fact_id_support_facts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_contact_facts")),
    )
    with op.batch_alter_table("support_contact_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_contact_facts_contacted_on"), ["contacted_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_contact_facts_support_fact_id"), ["support_fact_id"], unique=False
        )

    op.create_table(
        "disruption_action_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("action_date", sa.Date(), nullable=False),
        sa.Column("counts_as_charge", sa.Boolean(), nullable=False),
        sa.Column("counts_as_conviction", sa.Boolean(), nullable=False),
        _time("recorded_at", nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disruption_action_facts")),
    )
    with op.batch_alter_table("disruption_action_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disruption_action_facts_action_date"), ["action_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disruption_action_facts_recorded_at"), ["recorded_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disruption_action_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disruption_action_facts_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_disruption_action_facts_action_date"))
    op.drop_table("disruption_action_facts")
    with op.batch_alter_table("support_contact_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_contact_facts_support_fact_id"))
        batch_op.drop_index(batch_op.f("ix_support_contact_facts_contacted_on"))
    op.drop_table("support_contact_facts")
    with op.batch_alter_table("support_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_facts_ended_at"))
        batch_op.drop_index(batch_op.f("ix_support_facts_started_at"))
    op.drop_table("support_facts")
