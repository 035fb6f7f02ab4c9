"""Meeting times as people in the partnership give them: Europe/London wall-clock time,
without an offset, so a 10:00 meeting stays at 10:00 when the clocks change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, NaiveDatetime, WithJsonSchema

from safeguarding_kit.db import utc_now

# Meetings are planned, moved and listed at most this far from today. Generating a rule's
# meetings costs time in proportion to how far they are from its first meeting, so an
# unbounded date would let one request keep the service busy for seconds.
PLANNING_HORIZON_YEARS = 10
PLANNING_HORIZON = timedelta(days=round(365.25 * PLANNING_HORIZON_YEARS))

# RFC 3339 `date-time` requires an offset, so the spec must not call these `date-time`:
# a client validating against it would reject the very values the service sends.
WALL_CLOCK_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$"

LondonWallClockTime = Annotated[
    NaiveDatetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": WALL_CLOCK_PATTERN,
            "description": "Europe/London wall-clock time without an offset, e.g. 2027-01-06T10:00:00.",
            "examples": ["2027-01-06T10:00:00"],
        }
    ),
]


def _within_planning_horizon(value: datetime) -> datetime:
    if abs(value - utc_now().replace(tzinfo=None)) > PLANNING_HORIZON:
        raise ValueError(f"must be within {PLANNING_HORIZON_YEARS} years of today")
    return value


# A time a caller asks a meeting to be at (a series' first meeting, a move).
PlannedWallClockTime = Annotated[LondonWallClockTime, AfterValidator(_within_planning_horizon)]
