"""nhs number not unique: a known NHS number sent with another birth date or family name
is kept on a new record for the hub's duplicate review (refusing it told the sender the
hub knew the number); registration still matches on it, through an ordinary index

Revision ID: 4b7e2c9a1f35
Revises: d1eea12d7afa
Create Date: 2026-11-29 11:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4b7e2c9a1f35"
down_revision: str | None = "d1eea12d7afa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_children_nhs_number"), type_="unique")
        batch_op.create_index(batch_op.f("ix_children_nhs_number"), ["nhs_number"], unique=False)


def downgrade() -> None:
    # Fails while two records share a number: merge them first.
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_children_nhs_number"))
        batch_op.create_unique_constraint(batch_op.f("uq_children_nhs_number"), ["nhs_number"])
