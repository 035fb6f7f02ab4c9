"""Referral figures: grouped counts computed in the database, protected by disclosure
control for everyone but analysts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import CHILD_DIMENSIONS, GroupBy, expression
from referral_api.stats.schemas import ReferralFigures
from safeguarding_kit.figures import figure_table

CONCERN_NOTE = "Referrals with several concern types count once per type when grouped by concern type."


def grouped_counts(
    session: Session, group_by: list[GroupBy], received_from: datetime, received_to: datetime
) -> list[tuple[str, str, int]]:
    """(first dimension, second dimension or "all", count) for every non-empty group."""
    labels = [expression(g).label(f"d{i}") for i, g in enumerate(group_by)]
    stmt = select(*labels, func.count().label("n")).select_from(Referral)
    if set(group_by) & CHILD_DIMENSIONS:
        stmt = stmt.join(Child, Child.id == Referral.child_id)
    if GroupBy.concern_type in group_by:
        stmt = stmt.join(ReferralConcern, ReferralConcern.referral_id == Referral.id)
    stmt = stmt.where(Referral.received_at >= received_from, Referral.received_at < received_to)
    rows = session.execute(stmt.group_by(*labels)).all()
    return [(str(r[0]), str(r[1]) if len(group_by) > 1 else "all", int(r[-1])) for r in rows]


def referral_figures(
    session: Session,
    group_by: list[GroupBy],
    received_from: datetime,
    received_to: datetime,
    *,
    exact: bool,
    threshold: int,
) -> ReferralFigures:
    """The figures table; ``exact`` (analysts) skips suppression."""
    table = figure_table(
        grouped_counts(session, group_by, received_from, received_to),
        [g.value for g in group_by],
        exact=exact,
        threshold=threshold,
        note=CONCERN_NOTE,
    )
    return ReferralFigures(received_from=received_from, received_to=received_to, **table.model_dump())
