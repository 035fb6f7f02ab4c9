"""Referral figures: grouped counts computed in the database, every category listed,
protected by disclosure control for everyone without exact figures."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import CHILD_DIMENSIONS, GroupBy, categories, expression
from referral_api.stats.schemas import ReferralFigures
from safeguarding_kit.figures import GroupCount, figure_table
from safeguarding_kit.periods import Window

CONCERN_NOTE = "Referrals with several concern types count once per type when grouped by concern type."
SIGNPOSTED_NOTE = (
    "signposted_to: the partnership agreement's services (GET /api/v1/partnership); `other` counts "
    "referrals signposted before the agreement listed them, `none` those not signposted."
)


def grouped_counts(
    session: Session, group_by: Sequence[GroupBy], window: Window, services: Sequence[str] = ()
) -> list[GroupCount]:
    """(first dimension, second dimension or "all", count, sum of the referrals' keys) for
    every non-empty group of the referrals received in the window up to its ``counted_until``.
    Grouped by concern type, a referral counts, key and all, once under each of its types."""
    labels = [expression(g, services).label(f"d{i}") for i, g in enumerate(group_by)]
    stmt = select(
        *labels, func.count().label("n"), func.coalesce(func.sum(Referral.stats_key), 0).label("k")
    ).select_from(Referral)
    if set(group_by) & CHILD_DIMENSIONS:
        stmt = stmt.join(Child, Child.id == Referral.child_id)
    if GroupBy.concern_type in group_by:
        stmt = stmt.join(ReferralConcern, ReferralConcern.referral_id == Referral.id)
    stmt = stmt.where(Referral.received_at >= window.start, Referral.received_at < window.counted_until)
    rows = session.execute(stmt.group_by(*labels)).all()
    return [(str(r[0]), str(r[1]) if len(group_by) > 1 else "all", int(r.n), int(r.k)) for r in rows]


def referral_figures(
    session: Session,
    group_by: Sequence[GroupBy],
    window: Window,
    *,
    exact: bool,
    threshold: int,
    services: Sequence[str] = (),
) -> ReferralFigures:
    """The figures table over ``window``, every category of each dimension listed
    (``services``: the slugs of the agreement's services, for ``signposted_to``);
    ``exact`` (`exact_figures` analysts) skips disclosure control."""
    notes = [CONCERN_NOTE] if GroupBy.concern_type in group_by else []
    if GroupBy.signposted_to in group_by:
        notes.append(SIGNPOSTED_NOTE)
    table = figure_table(
        grouped_counts(session, group_by, window, services),
        [g.value for g in group_by],
        exact=exact,
        threshold=threshold,
        rows=categories(group_by[0], window, services),
        columns=categories(group_by[1], window, services) if len(group_by) > 1 else (),
        window=window,
        note=" ".join(notes),
    )
    return ReferralFigures.model_validate(table.model_dump(by_alias=True))
