"""What is past the retention schedule on a day: each record's facts read from the
database (a child's record with every record merged into it, persons and places of
concern with their links), judged by :mod:`referral_api.retention.classification`, and
set against the legal holds in force."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Label, func, or_, select
from sqlalchemy.orm import Session

from referral_api.children.models import Child
from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern
from referral_api.disruption.models import DisruptionAction
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralEvent, ReferralStatus
from referral_api.retention.classification import (
    ChildFacts,
    ClassDue,
    MissingEpisodeFacts,
    ReferralFacts,
    SupportFacts,
    child_dues,
    child_last_activity,
    concern_dues,
    due_on,
    falls_due,
    last_activity_day,
)
from referral_api.retention.models import HoldSubject, LegalHold
from referral_api.subject_access.models import RequestStatus, SubjectAccessRequest, SubjectType
from referral_api.support.models import Support, SupportContact
from referral_api.third_party.models import ThirdPartyInformation
from safeguarding_kit.periods import england_day
from safeguarding_kit.retention.schedule import RecordClass, RetentionSchedule


@dataclass(frozen=True)
class ActiveHolds:
    """Every active hold, by what it keeps."""

    children: frozenset[uuid.UUID] = frozenset()
    persons: frozenset[uuid.UUID] = frozenset()
    places: frozenset[uuid.UUID] = frozenset()
    classes: frozenset[RecordClass] = frozenset()

    def keep(self, record: DueRecord) -> bool:
        """True when a hold keeps ``record``: on it (any record of a merged child), or on
        any of its classes."""
        if any(d.record_class in self.classes for d in record.dues):
            return True
        held = {
            HoldSubject.child: self.children,
            HoldSubject.person_of_concern: self.persons,
            HoldSubject.place_of_concern: self.places,
        }[record.subject_type]
        return not held.isdisjoint(record.ids)


# A request still being answered: disposing of what it asks for would be an offence (Data
# Protection Act 2018, s.173: erasing information to prevent its disclosure to the requester).
UNANSWERED = (RequestStatus.open, RequestStatus.ready_for_review)
REQUEST_SUBJECTS = {
    SubjectType.child: HoldSubject.child,
    SubjectType.person_of_concern: HoldSubject.person_of_concern,
}


def active_holds(session: Session) -> ActiveHolds:
    """The holds in force now: the legal holds not yet released, and the subject of every
    subject access request not yet answered (kept as if held)."""
    by_type: dict[HoldSubject, set[uuid.UUID]] = defaultdict(set)
    classes: set[RecordClass] = set()
    for subject_type, subject_id, record_class in session.execute(
        select(LegalHold.subject_type, LegalHold.subject_id, LegalHold.record_class).where(
            LegalHold.released_at.is_(None)
        )
    ):
        if record_class is not None:
            classes.add(RecordClass(record_class))
        if subject_id is not None:
            by_type[HoldSubject(subject_type)].add(subject_id)
    for request_subject, request_subject_id in session.execute(
        select(SubjectAccessRequest.subject_type, SubjectAccessRequest.subject_id).where(
            SubjectAccessRequest.status.in_(UNANSWERED)
        )
    ):
        by_type[REQUEST_SUBJECTS[SubjectType(request_subject)]].add(request_subject_id)
    return ActiveHolds(
        children=frozenset(by_type[HoldSubject.child]),
        persons=frozenset(by_type[HoldSubject.person_of_concern]),
        places=frozenset(by_type[HoldSubject.place_of_concern]),
        classes=frozenset(classes),
    )


@dataclass(frozen=True)
class DueRecord:
    """A record past retention: what it is, its classes with their rules and due days,
    the day of its last activity and the day it fell due. A child's record goes with
    every record merged into it (``merged_ids``)."""

    subject_type: HoldSubject
    subject_id: uuid.UUID
    dues: tuple[ClassDue, ...]
    last_activity_on: date
    due_on: date
    merged_ids: tuple[uuid.UUID, ...] = ()

    @property
    def ids(self) -> tuple[uuid.UUID, ...]:
        return (self.subject_id, *self.merged_ids)

    @property
    def record_classes(self) -> list[RecordClass]:
        return [d.record_class for d in self.dues]


@dataclass(frozen=True)
class DisposalPlan:
    """What is due now (``due``) and what is due but kept by a hold (``held``)."""

    due: list[DueRecord] = field(default_factory=list)
    held: list[DueRecord] = field(default_factory=list)


def _surviving_ids(merged_into: dict[uuid.UUID, uuid.UUID | None]) -> dict[uuid.UUID, uuid.UUID]:
    """Each child's surviving record (itself, unless merged; merges followed to the end)."""
    surviving: dict[uuid.UUID, uuid.UUID] = {}
    for child_id in merged_into:
        current, seen = child_id, {child_id}
        while (following := merged_into.get(current)) is not None and following not in seen:
            seen.add(following)
            current = following
        surviving[child_id] = current
    return surviving


def _child_rows(session: Session, only: Iterable[uuid.UUID] | None) -> dict[uuid.UUID, Any]:
    """What retention reads of each child's own row: every child's, or those of ``only``
    and of every record merged into them."""
    columns = select(
        Child.id,
        Child.merged_into_id,
        Child.date_of_birth,
        Child.looked_after,
        Child.created_at,
        Child.updated_at,
    )
    if only is None:
        return {row.id: row for row in session.execute(columns)}
    ids = frontier = set(only)
    while frontier:
        frontier = set(session.scalars(select(Child.id).where(Child.merged_into_id.in_(frontier)))) - ids
        ids = ids | frontier
    return {row.id: row for row in session.execute(columns.where(Child.id.in_(ids)))}


def _ever_allocated() -> Label[bool]:
    """A referral that opened a case: allocated now, or allocated before it was closed."""
    allocated_steps = select(ReferralEvent.referral_id).where(
        ReferralEvent.to_status == ReferralStatus.allocated
    )
    return or_(
        Referral.status == ReferralStatus.allocated,
        Referral.allocated_agency.is_not(None),
        Referral.allocated_team.is_not(None),
        Referral.id.in_(allocated_steps),
    ).label("ever_allocated")


def _supports_of(session: Session, scope: list[uuid.UUID] | None) -> dict[uuid.UUID, list[SupportFacts]]:
    """Each child's supports (by the child id they are recorded under) with when each of
    their contacts was recorded: every child's, or those of the children in ``scope``."""
    support_rows = select(
        Support.id,
        Support.child_id,
        Support.requested_at,
        Support.created_at,
        Support.started_at,
        Support.start_recorded_at,
        Support.ended_at,
        Support.end_recorded_at,
    )
    contact_rows = select(SupportContact.support_id, SupportContact.recorded_at).join(
        Support, Support.id == SupportContact.support_id
    )
    if scope is not None:
        support_rows = support_rows.where(Support.child_id.in_(scope))
        contact_rows = contact_rows.where(Support.child_id.in_(scope))
    contacts: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for contact in session.execute(contact_rows):
        contacts[contact.support_id].append(contact.recorded_at)
    supports: dict[uuid.UUID, list[SupportFacts]] = defaultdict(list)
    for row in session.execute(support_rows):
        recorded = (row.created_at, row.start_recorded_at, row.end_recorded_at)
        supports[row.child_id].append(
            SupportFacts(
                requested_at=row.requested_at,
                started_at=row.started_at,
                ended_at=row.ended_at,
                recorded_at=tuple(t for t in recorded if t is not None),
                contacts_recorded_at=tuple(contacts[row.id]),
            )
        )
    return supports


def children_facts(
    session: Session, only: Iterable[uuid.UUID] | None = None
) -> list[tuple[ChildFacts, tuple[uuid.UUID, ...]]]:
    """Each surviving child record's facts (merged records read with it), with the ids
    merged into it: every child's, or those of the ``only`` surviving records."""
    children = _child_rows(session, only)
    surviving = _surviving_ids({child_id: row.merged_into_id for child_id, row in children.items()})
    wanted = None if only is None else set(only)
    families: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for child_id, survivor in surviving.items():
        # A record merged into one outside ``only`` goes with its own survivor, not here.
        if wanted is None or survivor in wanted:
            families[survivor].append(child_id)
    family_of = {child_id: survivor for survivor, ids in families.items() for child_id in ids}
    scope = None if wanted is None else list(family_of)
    if scope == []:
        return []

    referrals: dict[uuid.UUID, list[ReferralFacts]] = defaultdict(list)
    referral_rows = select(
        Referral.child_id,
        Referral.status,
        Referral.received_at,
        Referral.decided_at,
        Referral.first_contact_at,
        _ever_allocated(),
    )
    for row in session.execute(
        referral_rows if scope is None else referral_rows.where(Referral.child_id.in_(scope))
    ):
        if row.child_id not in family_of:  # about a child registered since its record was read
            continue
        referrals[family_of[row.child_id]].append(
            ReferralFacts(
                status=ReferralStatus(row.status),
                received_at=row.received_at,
                ever_allocated=bool(row.ever_allocated),
                decided_at=row.decided_at,
                first_contact_at=row.first_contact_at,
            )
        )
    missing: dict[uuid.UUID, list[MissingEpisodeFacts]] = defaultdict(list)
    episode_rows = select(
        MissingEpisode.child_id,
        MissingEpisode.reported_missing_at,
        MissingEpisode.found_at,
        MissingEpisode.rhi_offered_at,
        MissingEpisode.rhi_completed_at,
        MissingEpisode.rhi_declined_at,
    )
    for episode in session.execute(
        episode_rows if scope is None else episode_rows.where(MissingEpisode.child_id.in_(scope))
    ):
        if episode.child_id not in family_of:
            continue
        missing[family_of[episode.child_id]].append(
            MissingEpisodeFacts(
                reported_missing_at=episode.reported_missing_at,
                found_at=episode.found_at,
                rhi_offered_at=episode.rhi_offered_at,
                rhi_completed_at=episode.rhi_completed_at,
                rhi_declined_at=episode.rhi_declined_at,
            )
        )
    third_party: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    information_rows = select(ThirdPartyInformation.child_id, ThirdPartyInformation.received_at).where(
        ThirdPartyInformation.child_id.is_not(None)
    )
    for information in session.execute(
        information_rows
        if scope is None
        else information_rows.where(ThirdPartyInformation.child_id.in_(scope))
    ):
        if information.child_id in family_of:
            third_party[family_of[information.child_id]].append(information.received_at)
    supports: dict[uuid.UUID, list[SupportFacts]] = defaultdict(list)
    for child_id, child_supports in _supports_of(session, scope).items():
        if child_id in family_of:
            supports[family_of[child_id]] += child_supports

    facts = []
    for survivor, ids in families.items():
        family = [children[i] for i in ids]
        facts.append(
            (
                ChildFacts(
                    child_id=survivor,
                    born=children[survivor].date_of_birth,
                    looked_after=any(c.looked_after for c in family),
                    created_at=max(c.created_at for c in family),
                    updated_at=max(c.updated_at for c in family),
                    referrals=tuple(referrals[survivor]),
                    missing_episodes=tuple(missing[survivor]),
                    third_party_received=tuple(third_party[survivor]),
                    supports=tuple(supports[survivor]),
                ),
                tuple(sorted(i for i in ids if i != survivor)),
            )
        )
    return facts


def _concern_last_activity(
    session: Session, model: type[PersonOfConcern] | type[PlaceOfConcern], only: uuid.UUID | None = None
) -> dict[uuid.UUID, date]:
    """Each person's (or place's) last activity: recorded, changed (persons), linked, or a
    disruption action against them recorded or its outcome updated."""
    if model is PersonOfConcern:
        linked = or_(
            ConcernLink.person_id == PersonOfConcern.id, ConcernLink.linked_person_id == PersonOfConcern.id
        )
        changed = PersonOfConcern.updated_at
        target = DisruptionAction.person_of_concern_id
    else:
        linked = ConcernLink.place_id == PlaceOfConcern.id
        changed = PlaceOfConcern.created_at
        target = DisruptionAction.place_of_concern_id
    # Aggregated apart, so the links and the actions do not multiply each other's rows.
    actions = (
        select(
            target.label("target_id"),
            func.max(DisruptionAction.recorded_at).label("recorded_at"),
            func.max(DisruptionAction.updated_at).label("updated_at"),
        )
        .where(target.is_not(None))
        .group_by(target)
        .subquery("disruption_activity")
    )
    stmt = (
        select(
            model.id,
            model.created_at,
            changed.label("changed_at"),
            func.max(ConcernLink.linked_at).label("linked_at"),
            actions.c.recorded_at.label("action_recorded_at"),
            actions.c.updated_at.label("action_updated_at"),
        )
        .outerjoin(ConcernLink, linked)
        .outerjoin(actions, actions.c.target_id == model.id)
        .group_by(model.id, model.created_at, changed, actions.c.recorded_at, actions.c.updated_at)
    )
    if only is not None:
        stmt = stmt.where(model.id == only)
    return {
        row.id: last_activity_day(
            [row.created_at, row.changed_at, row.linked_at, row.action_recorded_at, row.action_updated_at]
        )
        for row in session.execute(stmt)
    }


CONCERNS: dict[HoldSubject, tuple[type[PersonOfConcern] | type[PlaceOfConcern], RecordClass]] = {
    HoldSubject.person_of_concern: (PersonOfConcern, RecordClass.person_of_concern),
    HoldSubject.place_of_concern: (PlaceOfConcern, RecordClass.place_of_concern),
}


def due_children(
    session: Session, schedule: RetentionSchedule, today: date, only: uuid.UUID | None = None
) -> list[DueRecord]:
    """The child records past retention on ``today`` (each surviving record with those
    merged into it), held or not; with ``only``, that surviving record's, if it is."""
    due = []
    for facts, merged_ids in children_facts(session, None if only is None else [only]):
        dues = child_dues(facts, schedule)
        if falls_due(dues, today):
            day = due_on(dues)
            assert day is not None
            due.append(
                DueRecord(
                    subject_type=HoldSubject.child,
                    subject_id=facts.child_id,
                    dues=tuple(dues),
                    last_activity_on=child_last_activity(facts),
                    due_on=day,
                    merged_ids=merged_ids,
                )
            )
    return due


def due_concerns(
    session: Session,
    schedule: RetentionSchedule,
    today: date,
    subject_type: HoldSubject,
    only: uuid.UUID | None = None,
) -> list[DueRecord]:
    """The persons (or places) of concern past retention on ``today``, held or not; with
    ``only``, that one's, if it is."""
    model, record_class = CONCERNS[subject_type]
    due = []
    for record_id, last in _concern_last_activity(session, model, only).items():
        dues = concern_dues(record_class, schedule, last_activity=last)
        if falls_due(dues, today):
            day = due_on(dues)
            assert day is not None
            due.append(DueRecord(subject_type, record_id, tuple(dues), last, day))
    return due


def _order(records: list[DueRecord]) -> list[DueRecord]:
    return sorted(records, key=lambda r: (r.due_on, r.subject_type.value, str(r.subject_id)))


def plan_disposal(session: Session, schedule: RetentionSchedule, now: datetime) -> DisposalPlan:
    """What is past retention on ``now``'s day (in England) and not held (``due``), and
    what is past retention but kept by an active hold (``held``), oldest due first."""
    today = england_day(now)
    candidates = due_children(session, schedule, today)
    for subject_type in CONCERNS:
        candidates += due_concerns(session, schedule, today, subject_type)
    holds = active_holds(session)
    return DisposalPlan(
        due=_order([r for r in candidates if not holds.keep(r)]),
        held=_order([r for r in candidates if holds.keep(r)]),
    )
