"""The return-home interview clock: an interview offered within 72 hours (elapsed) of a
missing child being found."""

from __future__ import annotations

from datetime import datetime, timedelta

RETURN_HOME_INTERVIEW_WINDOW = timedelta(hours=72)


def return_home_interview_due(found_at: datetime) -> datetime:
    """72 hours (elapsed) after the child was found."""
    return found_at + RETURN_HOME_INTERVIEW_WINDOW
