"""The rules of a support as plain functions: its status, which step may follow, which
dates are possible, how long the child waited, and the child's risk level at an instant.

offered -> active (started) -> ended; an offer may also end before it starts (declined,
moved away...). Contacts are recorded once the support has started, dated between its start
and its end (or today), also after it ended (notes are often written up later)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from referral_api.support.models import EndReason, RiskLevel
from safeguarding_kit.periods import england_day


class SupportStatus(StrEnum):
    offered = "offered"  # requested or offered, not started
    active = "active"  # started, not ended
    ended = "ended"


class Step(StrEnum):
    start = "start"
    record_contact = "record_contact"
    end = "end"


# End reasons that only make sense once the child has been working with the provider.
REASONS_NEEDING_A_START = frozenset({EndReason.goals_met, EndReason.disengaged})


class Refusal(NamedTuple):
    """Why a date or reason given is not possible, and the body field it is about."""

    field: str
    reason: str


def status_of(started_at: datetime | None, ended_at: datetime | None) -> SupportStatus:
    """The support's status from its dates."""
    if ended_at is not None:
        return SupportStatus.ended
    return SupportStatus.active if started_at is not None else SupportStatus.offered


def step_refusal(step: Step, started_at: datetime | None, ended_at: datetime | None) -> str | None:
    """Why ``step`` cannot be taken on a support with these dates now, or None when it can."""
    status = status_of(started_at, ended_at)
    if step is Step.start and status is not SupportStatus.offered:
        return f"A support that is {status.value} cannot start again."
    if step is Step.end and status is SupportStatus.ended:
        return "This support has already ended."
    if step is Step.record_contact and started_at is None:
        return "Contacts are recorded once the support has started; record its start first."
    return None


def start_refusal(requested_at: datetime, started_at: datetime, now: datetime) -> Refusal | None:
    """Why the support cannot have started at ``started_at``, or None."""
    if started_at > now:
        return Refusal("started_at", "A support cannot start in the future.")
    if started_at < requested_at:
        return Refusal("started_at", "A support cannot start before it was requested.")
    return None


def end_refusal(
    requested_at: datetime,
    started_at: datetime | None,
    ended_at: datetime,
    reason: EndReason,
    now: datetime,
) -> Refusal | None:
    """Why the support cannot have ended at ``ended_at`` for ``reason``, or None."""
    if ended_at > now:
        return Refusal("ended_at", "A support cannot end in the future.")
    if ended_at < (started_at or requested_at):
        return Refusal(
            "ended_at", "A support cannot end before it started (or, never started, before it was requested)."
        )
    if started_at is None and reason in REASONS_NEEDING_A_START:
        return Refusal("reason", f"A support that never started cannot end as {reason.value}.")
    return None


def contact_refusal(
    contacted_on: date, started_at: datetime, ended_at: datetime | None, today: date
) -> Refusal | None:
    """Why a contact cannot be dated ``contacted_on`` (days in England), or None."""
    last = england_day(ended_at) if ended_at is not None else today
    if contacted_on > today:
        return Refusal("contacted_on", "A contact cannot be recorded for a day still to come.")
    if not england_day(started_at) <= contacted_on <= last:
        return Refusal(
            "contacted_on", "A contact must fall between the support's start and its end (or today)."
        )
    return None


def waiting_days(requested_at: datetime, started_at: datetime) -> int:
    """Days the child waited from the request to the start: calendar days in England (a
    support requested on 1 October and started on 20 October waited 19 days)."""
    return (england_day(started_at) - england_day(requested_at)).days


def level_at(levels: Iterable[tuple[datetime, RiskLevel]], instant: datetime) -> RiskLevel | None:
    """The level of the latest assessment at or before ``instant`` among ``levels``
    (assessed at, level); None when the child had not been assessed by then."""
    before = [(at, level) for at, level in levels if at <= instant]
    return max(before, key=lambda pair: pair[0])[1] if before else None
