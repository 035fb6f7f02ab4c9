"""disruption actions: against persons and places of concern, with the children each protects by id

An action's kind is a slug of the partnership's vocabulary (configuration, so a String, not
a CHECK); whether it counted as a charge or a conviction is copied when it is recorded.
Children are linked by id only (a foreign key to children), never by name, through a table
with an id of its own so that merging a child's records never collides.

Revision ID: a7b8c9d0e1f2
Revises: f1a2b3c4d5e6
Create Date: 2026-12-06 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabularies as they stand today (a migration must not change with the code).
TARGET_TYPES = ("person", "place")
OUTCOMES = (
    "issued",
    "granted",
    "refused",
    "pending",
    "withdrawn",
    "no_further_action",
    "convicted",
    "acquitted",
    "other",
)
OFFENCE_GROUPS = (
    "violence_against_the_person",
    "sexual_offences",
    "robbery",
    "theft_offences",
    "criminal_damage_and_arson",
    "drug_offences",
    "possession_of_weapons_offences",
    "public_order_offences",
    "miscellaneous_crimes_against_society",
)


def _vocabulary(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _time(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, safeguarding_kit.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "disruption_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("target_type", _vocabulary(TARGET_TYPES, "disruption_target_type"), nullable=False),
        sa.Column("person_of_concern_id", sa.Uuid(), nullable=True),
        sa.Column("place_of_concern_id", sa.Uuid(), nullable=True),
        sa.Column("action_date", sa.Date(), nullable=False),
        sa.Column("outcome", _vocabulary(OUTCOMES, "disruption_outcome"), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=True),
        sa.Column("offence_group", _vocabulary(OFFENCE_GROUPS, "offence_group"), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("other_text", sa.String(length=500), nullable=True),
        sa.Column("counts_as_charge", sa.Boolean(), nullable=False),
        sa.Column("counts_as_conviction", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_by_agency", sa.String(length=63), nullable=False),
        _time("recorded_at", nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        _time("updated_at", nullable=True),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(person_of_concern_id IS NULL) <> (place_of_concern_id IS NULL)",
            name=op.f("ck_disruption_actions_exactly_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["person_of_concern_id"],
            ["persons_of_concern.id"],
            name=op.f("fk_disruption_actions_person_of_concern_id_persons_of_concern"),
        ),
        sa.ForeignKeyConstraint(
            ["place_of_concern_id"],
            ["places_of_concern.id"],
            name=op.f("fk_disruption_actions_place_of_concern_id_places_of_concern"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disruption_actions")),
    )
    with op.batch_alter_table("disruption_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disruption_actions_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_disruption_actions_person_of_concern_id"), ["person_of_concern_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disruption_actions_place_of_concern_id"), ["place_of_concern_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_disruption_actions_action_date"), ["action_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_disruption_actions_recorded_at"), ["recorded_at"], unique=False)

    op.create_table(
        "disruption_action_children",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["disruption_actions.id"],
            name=op.f("fk_disruption_action_children_action_id_disruption_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_disruption_action_children_child_id_children")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disruption_action_children")),
    )
    with op.batch_alter_table("disruption_action_children", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disruption_action_children_action_id"), ["action_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disruption_action_children_child_id"), ["child_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disruption_action_children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disruption_action_children_child_id"))
        batch_op.drop_index(batch_op.f("ix_disruption_action_children_action_id"))
    op.drop_table("disruption_action_children")
    with op.batch_alter_table("disruption_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disruption_actions_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_disruption_actions_action_date"))
        batch_op.drop_index(batch_op.f("ix_disruption_actions_place_of_concern_id"))
        batch_op.drop_index(batch_op.f("ix_disruption_actions_person_of_concern_id"))
        batch_op.drop_index(batch_op.f("ix_disruption_actions_kind"))
    op.drop_table("disruption_actions")
