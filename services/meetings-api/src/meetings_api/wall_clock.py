"""Meeting times as people in the partnership give them: Europe/London wall-clock time,
without an offset, so a 10:00 meeting stays at 10:00 when the clocks change."""

from __future__ import annotations

from typing import Annotated

from pydantic import NaiveDatetime, WithJsonSchema

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
