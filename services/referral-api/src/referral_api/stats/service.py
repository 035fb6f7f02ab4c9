"""Referral figures: grouped counts computed in the database, every category listed,
protected by disclosure control for everyone without exact figures."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referral_api.stats.dimensions import GroupBy, categories
from referral_api.stats.schemas import ReferralFigures
from referral_api.stats.sources import referral_groups
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
    every non-empty group of the referrals received in the window up to its ``counted_until``,
    live or kept as facts after disposal. Grouped by concern type, a referral counts, key and
    all, once under each of its types."""
    referrals = referral_groups(group_by, window, services)
    dimensions = [referrals.c[f"d{i}"] for i in range(len(group_by))]
    rows = session.execute(
        select(
            *dimensions,
            func.count().label("n"),
            func.coalesce(func.sum(referrals.c.stats_key), 0).label("k"),
        ).group_by(*dimensions)
    ).all()
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
