"""figure record keys: every record a referral figure counts (referrals, places of concern,
missing episodes) gets a fixed random key from 0 to 255 for the cell key method, existing
rows a random one each; referrals get the financial quarter they were received in
(2025-26-Q1), worked out from the month in England already stored on them; the figures'
covering index takes both

Revision ID: 9e4b7c2d1a68
Revises: 5c3d8e1f2a47
Create Date: 2026-11-29 12:00:00.000000
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "9e4b7c2d1a68"
down_revision: str | None = "5c3d8e1f2a47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED_TABLES = ("referrals", "places_of_concern", "missing_episodes")
OLD_FIGURES_INDEX = ["received_at", "received_quarter", "age_band_at_referral", "agency_type"]
FIGURES_INDEX = [
    "received_at",
    "received_quarter",
    "received_financial_quarter",
    "age_band_at_referral",
    "agency_type",
    "stats_key",
]


def _financial_quarter(month: str) -> str:
    """``2025-26-Q1`` for ``2025-04`` (safeguarding_kit.periods.financial_quarter_of, kept
    here as it was, as a migration must not change with the code)."""
    day = date(int(month[:4]), int(month[5:7]), 1)
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}-Q{((day.month - 4) % 12) // 3 + 1}"


def upgrade() -> None:
    bind = op.get_bind()
    random_key = (
        "floor(random() * 256)::smallint" if bind.dialect.name == "postgresql" else "abs(random()) % 256"
    )
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("stats_key", sa.SmallInteger(), nullable=True))
        op.execute(sa.text(f"UPDATE {table} SET stats_key = {random_key}"))  # noqa: S608 - constants only
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_financial_quarter", sa.String(length=10), nullable=True))
    months = bind.execute(sa.text("SELECT DISTINCT received_month FROM referrals")).scalars().all()
    for month in months:
        bind.execute(
            sa.text(
                "UPDATE referrals SET received_financial_quarter = :quarter WHERE received_month = :month"
            ),
            {"quarter": _financial_quarter(month), "month": month},
        )
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("stats_key", existing_type=sa.SmallInteger(), nullable=False)
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.alter_column(
            "received_financial_quarter", existing_type=sa.String(length=10), nullable=False
        )
        batch_op.drop_index("ix_referrals_figures")
        batch_op.create_index("ix_referrals_figures", FIGURES_INDEX, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_figures")
        batch_op.create_index("ix_referrals_figures", OLD_FIGURES_INDEX, unique=False)
        batch_op.drop_column("received_financial_quarter")
    for table in KEYED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("stats_key")
