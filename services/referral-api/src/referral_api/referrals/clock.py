"""The referral decision clock: a decision by the end of the next working day after
receipt (weekends and England and Wales bank holidays skipped, days counted in
Europe/London time). "End of the day" is midnight in London starting the day after: a
referral received at 04:22 on a Sunday is due by 00:00 on Tuesday (the end of Monday), one
received at 10:00 on the Friday before a bank holiday Monday by 00:00 on Wednesday."""

from __future__ import annotations

from datetime import datetime

from safeguarding_kit.working_days import end_of_working_days_after


def referral_decision_due(received_at: datetime) -> datetime:
    """When a decision on a referral received at ``received_at`` falls due: the end of the
    next working day in England (the instant the day after it begins in London)."""
    return end_of_working_days_after(received_at, 1)
