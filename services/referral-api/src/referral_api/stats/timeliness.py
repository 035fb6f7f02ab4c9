"""Timeliness figures: time to first contact, decisions within a working day,
return-home interviews within 72 hours. Computed in the database (percentiles by
nearest rank, the same on SQLite and PostgreSQL); every count a protected FigureCell."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, or_, select, true
from sqlalchemy.orm import Session

from referral_api.stats.schemas import FirstContact, Share, Timeliness
from referral_api.stats.sources import missing_episodes_found, referrals_received
from safeguarding_kit.disclosure import MAX_NOISE
from safeguarding_kit.figures import SUPPRESSION_NOTE, hidden_cell, period_of, protected_count
from safeguarding_kit.periods import Window, england_day, england_midnight

NOTE = (
    "Migrated referrals are left out of first contact and decisions (they have no live timestamps); "
    "migrated_referrals_excluded says how many."
)


def events_until(now: datetime, *, exact: bool) -> datetime:
    """The instant up to which decisions, contacts and interviews count: ``now`` for exact
    figures, otherwise the start of the current month in England, so that protected figures
    change once a month and never with a single decision."""
    if exact:
        return now
    today = england_day(now)
    return england_midnight(date(today.year, today.month, 1))


def _hours_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _percentile(session: Session, values: Any, where: Any, n: int, fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` among ``n`` rows matching ``where``."""
    if n == 0:
        return None
    offset = max(math.ceil(fraction * n) - 1, 0)
    value = session.scalar(select(values).where(where).order_by(values).offset(offset).limit(1))
    return round(float(value), 1) if value is not None else None


def _counted(session: Session, records: Subquery, where: Any) -> tuple[int, int]:
    """(how many of ``records`` match, the sum of their record keys)."""
    n, keys = session.execute(
        select(func.count(), func.coalesce(func.sum(records.c.stats_key), 0))
        .select_from(records)
        .where(where)
    ).one()
    return int(n), int(keys)


def _share(
    on_time: tuple[int, int], total: tuple[int, int], names: tuple[str, str], *, exact: bool, threshold: int
) -> Share:
    """A share's two counts, each protected as a table's cell is; the number on time is also
    hidden (secondary) when the number late, total minus on time, is from 1 to the threshold."""
    shown_on_time, shown_total = (
        protected_count(n, k, exact=exact, threshold=threshold, key={"measure": name})
        for (n, k), name in zip((on_time, total), names, strict=True)
    )
    late = total[0] - on_time[0]
    if not exact and 1 <= late <= threshold and shown_on_time.suppressed is None:
        shown_on_time = hidden_cell(shown_on_time.key, "secondary")
    share = None
    if shown_on_time.count is not None and shown_total.count:
        share = round(shown_on_time.count / shown_total.count, 3)
    return Share(on_time=shown_on_time, total=shown_total, share=share)


def timeliness(session: Session, window: Window, *, now: datetime, exact: bool, threshold: int) -> Timeliness:
    """The window's timeliness figures: referrals received and children found in
    [start, counted_until), judged by what was recorded before :func:`events_until`. A
    referral still undecided after its decision fell due counts as late (leaving it out
    would flatter the share); one whose clock is still running is not counted yet."""
    dialect = session.get_bind().dialect.name
    observed = events_until(now, exact=exact)
    # Received in [start, counted_until), live or kept as facts after disposal.
    referrals = referrals_received(window)
    # Recorded as it happened (a migrated referral's times were typed in afterwards).
    timed = referrals.c.migrated.is_(False)
    migrated = _counted(session, referrals, referrals.c.migrated.is_(True))

    contacted = and_(timed, referrals.c.first_contact_at < observed)
    with_contact, contact_keys = _counted(session, referrals, contacted)
    contact_cell = protected_count(
        with_contact,
        contact_keys,
        exact=exact,
        threshold=threshold,
        key={"measure": "referrals_with_contact"},
    )
    hours = _hours_between(dialect, referrals.c.first_contact_at, referrals.c.received_at)
    # The median or 90th percentile of so few referrals is one child's own time.
    show_times = exact or contact_cell.suppressed is None
    first_contact = FirstContact(
        referrals_with_contact=contact_cell,
        median_hours=_percentile(session, hours, contacted, with_contact, 0.5) if show_times else None,
        p90_hours=_percentile(session, hours, contacted, with_contact, 0.9) if show_times else None,
    )

    decided = referrals.c.decided_at < observed
    decisions_due = _counted(
        session, referrals, and_(timed, or_(decided, referrals.c.decision_due_at < observed))
    )
    decisions_on_time = _counted(
        session, referrals, and_(timed, decided, referrals.c.decided_at <= referrals.c.decision_due_at)
    )

    # Found in [start, counted_until), live or kept as facts after disposal.
    episodes = missing_episodes_found(window)
    children_found = _counted(session, episodes, true())
    interviews_on_time = _counted(
        session,
        episodes,
        or_(
            *(
                and_(at <= episodes.c.rhi_due_at, at < observed)
                for at in (episodes.c.rhi_offered_at, episodes.c.rhi_completed_at, episodes.c.rhi_declined_at)
            )
        ),
    )
    protection = "Exact figures." if exact else SUPPRESSION_NOTE.format(t=threshold, noise=MAX_NOISE)
    return Timeliness(
        period=period_of(window),
        events_until=observed,
        first_contact=first_contact,
        decisions_within_one_working_day=_share(
            decisions_on_time,
            decisions_due,
            ("decisions_on_time", "decisions_due"),
            exact=exact,
            threshold=threshold,
        ),
        return_home_interviews_within_72_hours=_share(
            interviews_on_time,
            children_found,
            ("interviews_on_time", "children_found"),
            exact=exact,
            threshold=threshold,
        ),
        migrated_referrals_excluded=protected_count(
            *migrated, exact=exact, threshold=threshold, key={"measure": "migrated_referrals_excluded"}
        ),
        exact=exact,
        suppression_threshold=threshold,
        note=f"{protection} {NOTE}",
    )
