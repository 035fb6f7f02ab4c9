"""Statutory clocks of the referral service: a referral decision within 1 working
day of receipt, a return-home interview within 72 hours of a missing child being
found."""

from __future__ import annotations

from datetime import datetime, timedelta

from safeguarding_kit.working_days import add_working_days

RETURN_HOME_INTERVIEW_WINDOW = timedelta(hours=72)


def referral_decision_due(received_at: datetime) -> datetime:
    """When a decision on a referral received at ``received_at`` falls due."""
    return add_working_days(received_at, 1)


def return_home_interview_due(found_at: datetime) -> datetime:
    """72 hours (elapsed) after the child was found."""
    return found_at + RETURN_HOME_INTERVIEW_WINDOW
