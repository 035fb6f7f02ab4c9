"""The referral decision clock: a decision within 1 working day of receipt (weekends and
England and Wales bank holidays skipped, in Europe/London time)."""

from __future__ import annotations

from datetime import datetime

from safeguarding_kit.working_days import add_working_days


def referral_decision_due(received_at: datetime) -> datetime:
    """When a decision on a referral received at ``received_at`` falls due."""
    return add_working_days(received_at, 1)
