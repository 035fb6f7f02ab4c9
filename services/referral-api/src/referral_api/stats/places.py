"""Places of concern by ward and type: counts only, never tied to a child or a home."""

from __future__ import annotations

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from referral_api.concerns.models import PlaceOfConcern, PlaceType
from safeguarding_kit.figures import FigureTable, figure_table
from safeguarding_kit.periods import Window

NO_WARD = "online or unknown"


def places_by_ward(session: Session, window: Window, *, exact: bool, threshold: int) -> FigureTable:
    """Places recorded in [start, counted_until) by ward and type. Every type is listed, and
    every ward holding a place recorded before ``counted_until`` (whatever the window's start),
    so that a ward's presence says nothing about the window asked for."""
    ward = func.coalesce(PlaceOfConcern.ward_code, NO_WARD)
    recorded_by_then = PlaceOfConcern.created_at < window.counted_until
    wards = sorted(str(w) for w in session.scalars(select(ward).where(recorded_by_then).distinct()))
    rows = session.execute(
        select(
            ward,
            cast(PlaceOfConcern.place_type, String),
            func.count(),
            func.coalesce(func.sum(PlaceOfConcern.stats_key), 0),
        )
        .where(PlaceOfConcern.created_at >= window.start, recorded_by_then)
        .group_by(ward, PlaceOfConcern.place_type)
    ).all()
    return figure_table(
        [(str(w), str(t), int(n), int(k)) for w, t, n, k in rows],
        ["ward_code", "place_type"],
        exact=exact,
        threshold=threshold,
        rows=[w for w in wards if w != NO_WARD] + [NO_WARD],
        columns=[t.value for t in PlaceType],
        window=window,
    )
