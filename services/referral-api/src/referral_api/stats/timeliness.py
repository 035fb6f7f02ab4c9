"""Timeliness figures: time to first contact, decisions within a working day,
return-home interviews within 72 hours. Computed in the database (percentiles by
nearest rank, the same on SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral
from referral_api.stats.schemas import FirstContact, Share, Timeliness
from safeguarding_kit.figures import Count


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


def _share(on_time: int, total: int, *, exact: bool, threshold: int) -> Share:
    small = any(1 <= x <= threshold for x in (on_time, total, total - on_time))
    if small and not exact:
        return Share(on_time="c", total="c" if 1 <= total <= threshold else total, share=None)
    return Share(on_time=on_time, total=total, share=round(on_time / total, 3) if total else None)


def timeliness(
    session: Session,
    received_from: datetime,
    received_to: datetime,
    *,
    now: datetime,
    exact: bool,
    threshold: int,
) -> Timeliness:
    """The period's timeliness figures as of ``now``: a referral still undecided after its
    decision fell due counts as late (leaving it out would flatter the share); one whose
    clock is still running is not counted yet."""
    dialect = session.get_bind().dialect.name
    in_range = and_(Referral.received_at >= received_from, Referral.received_at < received_to)
    contacted = and_(in_range, Referral.first_contact_at.is_not(None))
    hours = _hours_between(dialect, Referral.first_contact_at, Referral.received_at)
    with_contact = session.scalar(select(func.count()).select_from(Referral).where(contacted)) or 0
    hide_contact = 1 <= with_contact <= threshold and not exact
    contact_count: Count = "c" if hide_contact else with_contact
    first_contact = FirstContact(
        referrals_with_contact=contact_count,
        median_hours=None if hide_contact else _percentile(session, hours, contacted, with_contact, 0.5),
        p90_hours=None if hide_contact else _percentile(session, hours, contacted, with_contact, 0.9),
    )
    decided_or_due = and_(in_range, or_(Referral.decided_at.is_not(None), Referral.decision_due_at < now))
    decisions_total = session.scalar(select(func.count()).select_from(Referral).where(decided_or_due)) or 0
    decisions_on_time = (
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(in_range, Referral.decided_at <= Referral.decision_due_at)
        )
        or 0
    )
    found = and_(MissingEpisode.found_at >= received_from, MissingEpisode.found_at < received_to)
    found_total = session.scalar(select(func.count()).select_from(MissingEpisode).where(found)) or 0
    offered_in_time = (
        session.scalar(
            select(func.count())
            .select_from(MissingEpisode)
            .where(
                found,
                or_(
                    MissingEpisode.rhi_offered_at <= MissingEpisode.rhi_due_at,
                    MissingEpisode.rhi_completed_at <= MissingEpisode.rhi_due_at,
                    MissingEpisode.rhi_declined_at <= MissingEpisode.rhi_due_at,
                ),
            )
        )
        or 0
    )
    return Timeliness(
        received_from=received_from,
        received_to=received_to,
        first_contact=first_contact,
        decisions_within_one_working_day=_share(
            decisions_on_time, decisions_total, exact=exact, threshold=threshold
        ),
        return_home_interviews_within_72_hours=_share(
            offered_in_time, found_total, exact=exact, threshold=threshold
        ),
        exact=exact,
        suppression_threshold=threshold,
    )
