"""support for children: supports offered to a child, their contacts, each child's assessed
risk levels (from the risk service's events), and `support` as a reason an agency is linked
to a child

A support names its provider (a service of the partnership agreement and/or an agency), when
it was requested, started and ended (and when each was recorded), why it ended, the child's
risk level at each end and a record key for the figures; a contact its day, the kind of place
(never an address) and the child's engagement. Every row about a child refers to the child
(or to its support), so the disposal of the child removes it.

Revision ID: f1a2b3c4d5e6
Revises: c3e6a9d4f125
Create Date: 2026-12-06 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "c3e6a9d4f125"
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
LINK_REASONS = ("referral", "allocation", "registration")
LINK_REASONS_WITH_SUPPORT = (*LINK_REASONS, "support")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _link_reasons(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    # The reason is a string with a CHECK constraint (no native enum type): the constraint is
    # dropped and made again with the new list (on SQLite by copying the table, batch mode).
    with op.batch_alter_table("child_agency_links", schema=None) as batch_op:
        batch_op.alter_column(
            "reason",
            existing_type=_enum("link_reason", *old),
            type_=_enum("link_reason", *new),
            existing_nullable=False,
        )


def upgrade() -> None:
    _link_reasons(LINK_REASONS, LINK_REASONS_WITH_SUPPORT)
    op.create_table(
        "supports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum("support_kind", *SUPPORT_KINDS), nullable=False),
        sa.Column("provider_service", sa.String(length=63), nullable=True),
        sa.Column("provider_agency", sa.String(length=63), nullable=True),
        sa.Column("offered_by", sa.String(length=63), nullable=False),
        sa.Column("requested_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", _enum("support_end_reason", *END_REASONS), nullable=True),
        sa.Column("start_recorded_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_recorded_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("risk_level_at_start", _enum("risk_level_at_start", *RISK_LEVELS), nullable=True),
        sa.Column("risk_level_at_end", _enum("risk_level_at_end", *RISK_LEVELS), nullable=True),
        sa.Column("created_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["children.id"], name=op.f("fk_supports_child_id_children")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supports")),
    )
    with op.batch_alter_table("supports", schema=None) as batch_op:
        for column in (
            "child_id",
            "kind",
            "provider_service",
            "provider_agency",
            "requested_at",
            "started_at",
            "ended_at",
            "created_at",
        ):
            batch_op.create_index(batch_op.f(f"ix_supports_{column}"), [column], unique=False)

    op.create_table(
        "support_contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("support_id", sa.Uuid(), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("setting", _enum("contact_setting", *SETTINGS), nullable=False),
        sa.Column("engagement", _enum("contact_engagement", *ENGAGEMENTS), nullable=False),
        sa.Column("recorded_by", sa.String(length=63), nullable=False),
        sa.Column("recorded_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["support_id"], ["supports.id"], name=op.f("fk_support_contacts_support_id_supports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_contacts")),
    )
    with op.batch_alter_table("support_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_contacts_contacted_on"), ["contacted_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_contacts_support_id"), ["support_id"], unique=False)

    op.create_table(
        "assessed_risk_levels",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("level", _enum("assessed_risk_level", *RISK_LEVELS), nullable=False),
        sa.Column("assessed_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_assessed_risk_levels_child_id_children")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessed_risk_levels")),
    )
    with op.batch_alter_table("assessed_risk_levels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessed_risk_levels_child_id_assessed_at", ["child_id", "assessed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assessed_risk_levels", schema=None) as batch_op:
        batch_op.drop_index("ix_assessed_risk_levels_child_id_assessed_at")
    op.drop_table("assessed_risk_levels")
    with op.batch_alter_table("support_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_contacts_support_id"))
        batch_op.drop_index(batch_op.f("ix_support_contacts_contacted_on"))
    op.drop_table("support_contacts")
    with op.batch_alter_table("supports", schema=None) as batch_op:
        for column in (
            "created_at",
            "ended_at",
            "started_at",
            "requested_at",
            "provider_agency",
            "provider_service",
            "kind",
            "child_id",
        ):
            batch_op.drop_index(batch_op.f(f"ix_supports_{column}"))
    op.drop_table("supports")
    # Links made for support go with it (the agency was linked to the child for nothing else).
    op.execute(sa.text("DELETE FROM child_agency_links WHERE reason = 'support'"))
    _link_reasons(LINK_REASONS_WITH_SUPPORT, LINK_REASONS)
