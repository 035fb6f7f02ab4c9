"""Places of concern by ward and type: counts only, never tied to a child or a home."""

from __future__ import annotations

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from referral_api.concerns.models import PlaceType
from referral_api.stats.sources import places_recorded_before
from safeguarding_kit.figures import FigureTable, figure_table
from safeguarding_kit.periods import Window

NO_WARD = "online or unknown"


def places_by_ward(session: Session, window: Window, *, exact: bool, threshold: int) -> FigureTable:
    """Places recorded in [start, counted_until) by ward and type. Every type is listed, and
    every ward holding a place recorded before ``counted_until`` (whatever the window's start),
    so that a ward's presence says nothing about the window asked for."""
    # Recorded before counted_until, live or kept as facts after disposal.
    places = places_recorded_before(window.counted_until)
    ward = func.coalesce(places.c.ward_code, NO_WARD)
    wards = sorted(str(w) for w in session.scalars(select(ward).distinct()))
    place_type = cast(places.c.place_type, String)
    rows = session.execute(
        select(ward, place_type, func.count(), func.coalesce(func.sum(places.c.stats_key), 0))
        .where(places.c.created_at >= window.start)
        .group_by(ward, place_type)
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
