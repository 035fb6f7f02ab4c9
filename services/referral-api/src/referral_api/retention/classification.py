"""Which record classes of the retention schedule a record falls under, when its last
activity was, and from which day it may be disposed of: pure rules over plain facts,
read from the database by :mod:`referral_api.retention.service`.

Days are days in England (``safeguarding_kit.periods.england_day``), as every other
date the partnership reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from referral_api.referrals.models import ReferralStatus
from safeguarding_kit.periods import england_day
from safeguarding_kit.retention.schedule import (
    RecordClass,
    RetentionSchedule,
    disposal_due,
    latest_due,
)


@dataclass(frozen=True)
class ReferralFacts:
    """What retention needs of one referral: whether a case was ever opened (allocated,
    even if closed since) and its dated steps."""

    status: ReferralStatus
    received_at: datetime
    ever_allocated: bool = False
    decided_at: datetime | None = None
    first_contact_at: datetime | None = None

    @property
    def allocated(self) -> bool:
        return self.ever_allocated or self.status is ReferralStatus.allocated

    def activity(self) -> list[datetime]:
        return [t for t in (self.received_at, self.decided_at, self.first_contact_at) if t is not None]


@dataclass(frozen=True)
class MissingEpisodeFacts:
    """A missing episode's dated steps: reported, found, and the return-home interview."""

    reported_missing_at: datetime
    found_at: datetime | None = None
    rhi_offered_at: datetime | None = None
    rhi_completed_at: datetime | None = None
    rhi_declined_at: datetime | None = None

    def activity(self) -> list[datetime]:
        moments = (
            self.reported_missing_at,
            self.found_at,
            self.rhi_offered_at,
            self.rhi_completed_at,
            self.rhi_declined_at,
        )
        return [t for t in moments if t is not None]


@dataclass(frozen=True)
class SupportFacts:
    """A support's dated steps: requested (and the offer recorded), started and ended (each
    also when it was recorded, which may be later), and when each of its contacts was
    recorded."""

    requested_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    recorded_at: tuple[datetime, ...] = ()
    contacts_recorded_at: tuple[datetime, ...] = ()

    def activity(self) -> list[datetime]:
        moments = (self.requested_at, self.started_at, self.ended_at, *self.recorded_at)
        return [t for t in (*moments, *self.contacts_recorded_at) if t is not None]


@dataclass(frozen=True)
class ChildFacts:
    """What retention needs of one child's record (a merged family read as one: the
    surviving record's own facts and everything about any record merged into it)."""

    child_id: uuid.UUID
    born: date
    looked_after: bool
    created_at: datetime
    updated_at: datetime | None = None
    referrals: tuple[ReferralFacts, ...] = ()
    missing_episodes: tuple[MissingEpisodeFacts, ...] = ()
    # When each piece of third-party information linked to the child was received.
    third_party_received: tuple[datetime, ...] = ()
    supports: tuple[SupportFacts, ...] = ()


@dataclass(frozen=True)
class ClassDue:
    """One record class of a record, its rule in words and the first day it lets the
    record go (None: kept)."""

    record_class: RecordClass
    rule: str
    due_on: date | None


def child_record_classes(child: ChildFacts) -> list[RecordClass]:
    """The classes a child's record falls under, in the schedule's order. A record with
    none of the others (a child registered, nothing else recorded yet) falls under
    ``no_further_action_referral``: no case was opened, so it is kept the shortest of a
    child's periods, never for ever."""
    classes: list[RecordClass] = []
    allocated = any(r.allocated for r in child.referrals)
    if allocated:
        classes.append(RecordClass.exploitation_case_record)
    if child.looked_after:
        classes.append(RecordClass.looked_after_case_record)
    if child.referrals and not allocated:
        classes.append(RecordClass.no_further_action_referral)
    if child.missing_episodes:
        classes.append(RecordClass.missing_episode)
    if child.third_party_received:
        classes.append(RecordClass.third_party_information)
    if not classes:
        classes.append(RecordClass.no_further_action_referral)
    return classes


def last_activity_day(moments: Iterable[datetime | None]) -> date:
    """The day (in England) of the latest of ``moments``; ``ValueError`` if none is given."""
    dated = [m for m in moments if m is not None]
    if not dated:
        raise ValueError("a record without any dated activity")
    return england_day(max(dated))


def child_last_activity(child: ChildFacts) -> date:
    """The day of the last thing recorded about the child: the record itself, its
    referrals' receipt, decision and first contact, its missing episodes' report, return
    and interview, third-party information received about it, and its supports' request,
    start and end and each contact recorded under them."""
    moments: list[datetime | None] = [child.created_at, child.updated_at]
    for referral in child.referrals:
        moments += referral.activity()
    for episode in child.missing_episodes:
        moments += episode.activity()
    moments += child.third_party_received
    for support in child.supports:
        moments += support.activity()
    return last_activity_day(moments)


def child_dues(child: ChildFacts, schedule: RetentionSchedule) -> list[ClassDue]:
    """Each class of the child's record with the day its rule lets the record go."""
    last = child_last_activity(child)
    return [
        ClassDue(
            record_class=record_class,
            rule=schedule.rule(record_class).describe(),
            due_on=disposal_due(schedule.rule(record_class), last_activity=last, born=child.born),
        )
        for record_class in child_record_classes(child)
    ]


def concern_dues(
    record_class: RecordClass, schedule: RetentionSchedule, *, last_activity: date
) -> list[ClassDue]:
    """A person's or place's one class with the day it may go (their rules count from the
    last activity: no birthday)."""
    rule = schedule.rule(record_class)
    return [ClassDue(record_class, rule.describe(), disposal_due(rule, last_activity=last_activity))]


def due_on(dues: list[ClassDue]) -> date | None:
    """The first day a record may go: when every one of its classes lets it (None if any
    keeps it)."""
    return latest_due([d.due_on for d in dues])


def falls_due(dues: list[ClassDue], today: date) -> bool:
    """True when the record may be disposed of on ``today``."""
    day = due_on(dues)
    return day is not None and day <= today
