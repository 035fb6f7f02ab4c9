"""subject access requests: the request, its due date, its package and the reviewer's decision

Revision ID: c3e6a9d4f125
Revises: b2d5f8c3e014
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db

revision: str = "c3e6a9d4f125"
down_revision: str | None = "b2d5f8c3e014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def upgrade() -> None:
    op.create_table(
        "subject_access_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", _enum("subject_type", "child", "person_of_concern"), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "requester_relationship",
            _enum(
                "requester_relationship",
                "data_subject",
                "parent_or_carer",
                "legal_representative",
                "advocate",
                "other_authorised_person",
            ),
            nullable=False,
        ),
        sa.Column("identity_verified", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            _enum("subject_access_status", "open", "ready_for_review", "released", "withheld"),
            nullable=False,
        ),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("opened_by", sa.String(length=255), nullable=False),
        sa.Column("opened_by_agency", sa.String(length=63), nullable=False),
        sa.Column("opened_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("package_assembled_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("outcome", _enum("review_outcome", "release", "withhold"), nullable=True),
        sa.Column("outcome_reasons", sa.Text(), nullable=True),
        sa.Column("item_decisions", sa.JSON(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_by_agency", sa.String(length=63), nullable=True),
        sa.Column("decided_at", safeguarding_kit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_requests")),
    )
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_access_requests_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_access_requests_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_access_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subject_access_requests_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_access_packages",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("assembled_by", sa.String(length=255), nullable=False),
        sa.Column("assembled_by_agency", sa.String(length=63), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_access_requests.id"],
            name=op.f("fk_subject_access_packages_request_id_subject_access_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_subject_access_packages")),
    )


def downgrade() -> None:
    op.drop_table("subject_access_packages")
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_subject_id"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_status"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_opened_at"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_due_on"))
    op.drop_table("subject_access_requests")
