"""statistical facts: de-identified facts of disposed records, so past figures do not change

What the referral figures read about a referral (with its concern types and its child's
gender, ethnicity and looked-after status), a missing episode and a place of concern,
kept when the record is disposed of: no name, date of birth, identifier, free text,
agency person or record id; each fact has a random id of its own. Indexed on the times
the figures' windows filter by.

Revision ID: b2d5f8c3e014
Revises: a1c4e7b2d903
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "b2d5f8c3e014"
down_revision: str | None = "a1c4e7b2d903"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabularies as they stand today (a migration must not change with the code).
AGENCY_TYPES = ("police", "social_care", "health", "education", "youth_service", "voluntary", "other")
OUTCOMES = ("allocated", "signposted", "no_further_action", "open")
GENDERS = ("female", "male", "another_gender", "not_known")
ETHNICITIES = (
    "white_british",
    "white_irish",
    "white_gypsy_or_irish_traveller",
    "white_roma",
    "white_other",
    "mixed_white_and_black_caribbean",
    "mixed_white_and_black_african",
    "mixed_white_and_asian",
    "mixed_other",
    "asian_indian",
    "asian_pakistani",
    "asian_bangladeshi",
    "asian_chinese",
    "asian_other",
    "black_african",
    "black_caribbean",
    "black_other",
    "other_arab",
    "other_any",
    "not_stated",
)
CONCERN_TYPES = (
    "sexual_exploitation",
    "criminal_exploitation",
    "county_lines",
    "online_harm",
    "missing",
    "trafficking",
    "other",
)
PLACE_TYPES = (
    "hotel",
    "bed_and_breakfast",
    "takeaway",
    "shop",
    "taxi_firm",
    "park",
    "house",
    "flat",
    "car_park",
    "transport_hub",
    "school_vicinity",
    "online_platform",
    "other",
)
REFERRAL_FACTS_INDEX = [
    "received_at",
    "received_quarter",
    "received_financial_quarter",
    "age_band_at_referral",
    "agency_type",
    "stats_key",
]


def _vocabulary(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _time(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, safeguarding_kit.db.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "referral_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("received_at", nullable=False),
        sa.Column("received_quarter", sa.String(length=7), nullable=False),
        sa.Column("received_month", sa.String(length=7), nullable=False),
        sa.Column("received_financial_quarter", sa.String(length=10), nullable=False),
        sa.Column("age_band_at_referral", sa.String(length=5), nullable=False),
        sa.Column("agency_type", _vocabulary(AGENCY_TYPES, "agency_type"), nullable=False),
        sa.Column("outcome", _vocabulary(OUTCOMES, "referral_outcome"), nullable=False),
        sa.Column("signposted_to", sa.String(length=63), nullable=True),
        sa.Column("gender", _vocabulary(GENDERS, "gender"), nullable=False),
        sa.Column("ethnicity", _vocabulary(ETHNICITIES, "ethnicity"), nullable=False),
        sa.Column("looked_after", sa.Boolean(), nullable=False),
        _time("decision_due_at", nullable=False),
        _time("decided_at", nullable=True),
        _time("first_contact_at", nullable=True),
        sa.Column("migrated", sa.Boolean(), nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_facts")),
    )
    with op.batch_alter_table("referral_facts", schema=None) as batch_op:
        batch_op.create_index("ix_referral_facts_figures", REFERRAL_FACTS_INDEX, unique=False)

    op.create_table(
        "referral_fact_concerns",
        sa.Column("referral_fact_id", sa.Uuid(), nullable=False),
        sa.Column("concern_type", _vocabulary(CONCERN_TYPES, "concern_type"), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_fact_id"],
            ["referral_facts.id"],
            name=op.f("fk_referral_fact_concerns_referral_fact_id_referral_facts"),
        ),
        sa.PrimaryKeyConstraint("referral_fact_id", "concern_type", name=op.f("pk_referral_fact_concerns")),
    )

    op.create_table(
        "missing_episode_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("found_at", nullable=True),
        _time("rhi_due_at", nullable=True),
        _time("rhi_offered_at", nullable=True),
        _time("rhi_completed_at", nullable=True),
        _time("rhi_declined_at", nullable=True),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missing_episode_facts")),
    )
    with op.batch_alter_table("missing_episode_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missing_episode_facts_found_at"), ["found_at"], unique=False)

    op.create_table(
        "place_facts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("place_type", _vocabulary(PLACE_TYPES, "place_type"), nullable=False),
        sa.Column("ward_code", sa.String(length=9), nullable=True),
        _time("created_at", nullable=False),
        sa.Column("stats_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_facts")),
    )
    with op.batch_alter_table("place_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_facts_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("place_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_facts_created_at"))
    op.drop_table("place_facts")
    with op.batch_alter_table("missing_episode_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missing_episode_facts_found_at"))
    op.drop_table("missing_episode_facts")
    op.drop_table("referral_fact_concerns")
    with op.batch_alter_table("referral_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_facts_figures")
    op.drop_table("referral_facts")
