"""The subject access clock (UK GDPR Art. 12(3), ICO guidance "Time limits for
responding"): one calendar month from the day the request was received, extendable by two
further months, counted as the ICO counts them.

The month ends on the corresponding calendar date of the next month, or on its last day
when it has no such date (received 31 January: due 28 February, or 29 February in a leap
year). The extension runs three months from receipt by the same rule (received 31 January:
due 30 April), not two months from the first due date. When a due date falls on a weekend
or an England and Wales bank holiday the response may be sent on the next working day:
that day is ``respond_by``; ``due_on`` stays the statutory date."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from safeguarding_kit.working_days import is_working_day

RESPONSE_MONTHS = 1
EXTENSION_MONTHS = 2


def due_on(received_on: date) -> date:
    """One calendar month after ``received_on`` (the corresponding date, or the month's last day)."""
    return received_on + relativedelta(months=RESPONSE_MONTHS)


def extended_due_on(received_on: date) -> date:
    """Three calendar months after ``received_on``: the month, and two further months."""
    return received_on + relativedelta(months=RESPONSE_MONTHS + EXTENSION_MONTHS)


def respond_by(due: date) -> date:
    """``due``, or the next working day when it falls on a weekend or bank holiday."""
    while not is_working_day(due):
        due += timedelta(days=1)
    return due
