"""decision due end of next working day: a referral's decision is due by the end of the
next working day after receipt in England (midnight in Europe/London starting the day
after it), no longer at the same time of day one working day later; every referral's
decision_due_at is recomputed from its received_at, and its row_version moves on, as its
representation (and so its ETag) changed

Revision ID: 49216cd40f2f
Revises: 3f6a2d9c8b17
Create Date: 2026-11-29 14:00:00.000000
"""

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import safeguarding_kit.db
from safeguarding_kit.working_days import is_working_day

revision: str = "49216cd40f2f"
down_revision: str | None = "3f6a2d9c8b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONDON = ZoneInfo("Europe/London")

referrals = sa.table(
    "referrals",
    sa.column("id", sa.Uuid()),
    sa.column("received_at", safeguarding_kit.db.UtcDateTime(timezone=True)),
    sa.column("decision_due_at", safeguarding_kit.db.UtcDateTime(timezone=True)),
    sa.column("row_version", sa.Integer()),
)


# Both rules written out here, as they stood, so that this migration means the same later.
def _end_of_next_working_day(received_at: datetime) -> datetime:
    day = received_at.astimezone(LONDON).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)


def _same_time_next_working_day(received_at: datetime) -> datetime:
    local = received_at.astimezone(LONDON)
    day = local.date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, local.time(), tzinfo=LONDON)


def _recompute(rule: Callable[[datetime], datetime]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(referrals.c.id, referrals.c.received_at, referrals.c.decision_due_at)
    ).all()
    changed = [
        {"referral_id": row.id, "due": due}
        for row in rows
        if (due := rule(row.received_at)) != row.decision_due_at
    ]
    if changed:  # one statement, executed for every changed row
        connection.execute(
            referrals.update()
            .where(referrals.c.id == sa.bindparam("referral_id"))
            .values(decision_due_at=sa.bindparam("due"), row_version=referrals.c.row_version + 1),
            changed,
        )


def upgrade() -> None:
    _recompute(_end_of_next_working_day)


def downgrade() -> None:
    _recompute(_same_time_next_working_day)
