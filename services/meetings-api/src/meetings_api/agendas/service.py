"""Business rules for agendas: build an occurrence's agenda from what the services
know (idempotently: regenerating keeps hand-made items, order changes and minutes),
items added by hand, minutes and decisions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from meetings_api import audit_trail
from meetings_api.actions.models import Action, ActionStatus
from meetings_api.agendas.events import MeetingDecisionRecorded
from meetings_api.agendas.models import AgendaItem, Decision, ItemKind, ItemSource
from meetings_api.agendas.rules import (
    AgendaWindow,
    ChildSignal,
    ReasonCode,
    child_items,
    child_signals,
    group_linked_children,
    intelligence_items,
    never_at_mace_signals,
    repeat_children,
)
from meetings_api.agendas.schemas import AgendaItemCreate, AgendaItemUpdate, DecisionCreate
from meetings_api.agendas.upstream.referral_client import ReferralClient
from meetings_api.agendas.upstream.risk_client import RiskClient
from meetings_api.occurrences.models import Occurrence, OccurrenceStatus
from meetings_api.occurrences.service import (
    get_occurrence,
    may_read_occurrence,
    meetings_of_series_chain,
    next_meeting_of_type,
    previous_occurrence,
    refuse_meeting_record,
)
from meetings_api.series.models import MeetingSeries, MeetingType
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate, paginate_by_position
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.problems import Conflict, NotFound

DEFAULT_LOOKBACK = timedelta(days=7)


class AgendaItemNotFound(NotFound):
    slug, title = "agenda-item-not-found", "Agenda item not found"


class MeetingCancelled(Conflict):
    slug, title = "meeting-cancelled", "The meeting is cancelled"


def _items(session: Session, occurrence_id: uuid.UUID) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem).where(AgendaItem.occurrence_id == occurrence_id).order_by(AgendaItem.position)
        )
    )


def action_signals(session: Session, occurrence: Occurrence, today: date) -> list[ChildSignal]:
    """Children with actions still open from earlier meetings of the series (carried forward)."""
    earlier = meetings_of_series_chain(session, occurrence)
    signals = []
    for action in session.scalars(
        select(Action).where(
            Action.occurrence_id.in_(earlier),
            Action.occurrence_id != occurrence.id,
            Action.status == ActionStatus.open,
            Action.child_id.is_not(None),
        )
    ):
        assert action.child_id is not None
        overdue = action.due_date < today
        signals.append(
            ChildSignal(
                action.child_id,
                ReasonCode.overdue_action if overdue else ReasonCode.open_action,
                f"{'Overdue' if overdue else 'Open'} action for {action.owner_agency}: "
                f"due {action.due_date.isoformat()}",
            )
        )
    return signals


def never_at_mace(session: Session, child_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``child_ids`` never on any MACE agenda."""
    discussed: set[uuid.UUID] = set()
    rows = session.execute(
        select(AgendaItem.child_ids)
        .join(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
        .join(MeetingSeries, MeetingSeries.id == Occurrence.series_id)
        .where(MeetingSeries.meeting_type == MeetingType.MACE)
    ).scalars()
    for ids in rows:
        discussed |= {uuid.UUID(i) for i in ids}
    return child_ids - discussed


def build_agenda(
    session: Session,
    principal: Principal,
    occurrence_id: uuid.UUID,
    risk: RiskClient,
    referrals: ReferralClient,
    *,
    review_gap_weeks: int,
    now: datetime,
) -> list[AgendaItem]:
    """Generate (or regenerate) the occurrence's agenda: one item per child with every
    reason they are on it. Hand-made items, positions and minutes are kept; a generated
    item whose reasons have gone is dropped unless it already has minutes. Commits.
    A service that cannot be read whole raises its problem before anything is written."""
    occurrence = get_occurrence(session, occurrence_id)
    if occurrence.status is OccurrenceStatus.cancelled:
        raise MeetingCancelled("A cancelled meeting has no agenda to build.")
    previous = previous_occurrence(session, occurrence)
    # The first meeting of a series looks back a week from whichever comes first: it or now.
    since = previous.starts_at if previous else min(occurrence.starts_at, now) - DEFAULT_LOOKBACK
    window = AgendaWindow(since=since, meeting_at=occurrence.starts_at, review_gap_weeks=review_gap_weeks)
    signals = child_signals(risk, referrals, window)
    signals += action_signals(session, occurrence, now.date())
    signals += never_at_mace_signals(never_at_mace(session, repeat_children(signals)))

    wanted = child_items(signals)
    series = session.get_one(MeetingSeries, occurrence.series_id)
    if series.meeting_type in (MeetingType.CETG, MeetingType.MAPPING):
        wanted += intelligence_items(referrals.persons_of_concern(), referrals.places_of_concern())
    else:
        wanted = group_linked_children(wanted, referrals.persons_of_concern())

    existing = {item.generation_key: item for item in _items(session, occurrence.id) if item.generation_key}
    next_position = (
        session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.occurrence_id == occurrence.id))
        or 0
    ) + 1
    for entry in wanted:
        item = existing.pop(entry.key, None)
        if item is None:
            session.add(
                AgendaItem(
                    occurrence_id=occurrence.id,
                    position=next_position,
                    kind=entry.kind,
                    source=ItemSource.generated,
                    generation_key=entry.key,
                    child_ids=entry.child_ids,
                    subject_id=entry.subject_id,
                    title=entry.title,
                    reasons=entry.reasons,
                )
            )
            next_position += 1
        elif (item.reasons, item.child_ids) != (entry.reasons, entry.child_ids):
            item.reasons, item.child_ids = entry.reasons, entry.child_ids
    for stale in existing.values():
        if stale.source is ItemSource.generated and not stale.minutes:
            session.delete(stale)
    session.flush()
    items = _renumber(_items(session, occurrence.id))
    audit_trail.record_for_children(
        session, principal, "generate", "agenda", occurrence.id, {c for i in items for c in i.child_ids}
    )
    session.commit()
    return items


def _renumber(items: list[AgendaItem]) -> list[AgendaItem]:
    for position, item in enumerate(sorted(items, key=lambda i: i.position), start=1):
        if item.position != position:
            item.position = position
    return sorted(items, key=lambda i: i.position)


def agenda_page(
    session: Session, occurrence_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AgendaItem], str | None]:
    """``limit`` items of the agenda in running order after ``cursor``, and the next
    page's cursor (the same cursor reads on from a generated agenda's first page)."""
    return paginate_by_position(
        session,
        select(AgendaItem).where(AgendaItem.occurrence_id == occurrence_id),
        position=AgendaItem.position,
        id_column=AgendaItem.id,
        limit=limit,
        cursor=cursor,
    )


def read_agenda(
    session: Session, principal: Principal, occurrence_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AgendaItem], str | None]:
    """A page of the agenda in order (:func:`agenda_page`); each child on it an audited
    read. Commits."""
    get_occurrence(session, occurrence_id)
    items, next_cursor = agenda_page(session, occurrence_id, limit=limit, cursor=cursor)
    audit_trail.record_for_children(
        session, principal, "read", "agenda", occurrence_id, {c for i in items for c in i.child_ids}
    )
    session.commit()
    return items, next_cursor


def add_item(
    session: Session, principal: Principal, occurrence_id: uuid.UUID, data: AgendaItemCreate
) -> AgendaItem:
    """An item added by hand, at the end; regeneration never removes it. Does not
    commit: the caller (the idempotent create) commits with its answer."""
    occurrence = get_occurrence(session, occurrence_id)
    if occurrence.status is OccurrenceStatus.cancelled:
        raise MeetingCancelled("A cancelled meeting takes no agenda items.")
    position = (
        session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.occurrence_id == occurrence.id))
        or 0
    ) + 1
    item = AgendaItem(
        occurrence_id=occurrence.id,
        position=position,
        kind=data.kind,
        source=ItemSource.manual,
        child_ids=[str(c) for c in data.child_ids],
        subject_id=data.subject_id,
        title=data.title,
        reasons=[{"code": ReasonCode.added_by_hand.value, "detail": data.reason}],
    )
    session.add(item)
    session.flush()
    audit_trail.record_for_children(session, principal, "create", "agenda_item", item.id, data.child_ids)
    return item


def get_item(session: Session, item_id: uuid.UUID) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise AgendaItemNotFound(f"There is no agenda item {item_id}.")
    return item


def update_item(
    session: Session, principal: Principal, item_id: uuid.UUID, change: AgendaItemUpdate, if_match: str | None
) -> AgendaItem:
    """Move the item or write its minutes, under If-Match. Commits."""
    item = get_item(session, item_id)
    check_if_match(if_match, item.row_version)
    if change.minutes is not None:
        item.minutes = change.minutes
    if change.position is not None:
        others = [i for i in _items(session, item.occurrence_id) if i.id != item.id]
        target = min(change.position, len(others) + 1)
        ordered = [*others[: target - 1], item, *others[target - 1 :]]
        for position, entry in enumerate(ordered, start=1):
            entry.position = position
    audit_trail.record_for_children(session, principal, "update", "agenda_item", item.id, item.child_ids)
    session.commit()
    return item


def record_decision(
    session: Session, principal: Principal, item_id: uuid.UUID, data: DecisionCreate, outbox: Outbox
) -> Decision:
    """A decision taken on the item, audited for its children and announced for each of
    them (``meeting.decision_recorded``, ids only). Does not commit: the caller (the
    idempotent create) commits with its answer, and the events with it."""
    item = get_item(session, item_id)
    decision = Decision(agenda_item_id=item.id, text=data.text, recorded_by=principal.sub)
    session.add(decision)
    session.flush()
    audit_trail.record_for_children(session, principal, "create", "decision", decision.id, item.child_ids)
    if item.child_ids:
        occurrence = get_occurrence(session, item.occurrence_id)
        series = session.get_one(MeetingSeries, occurrence.series_id)
        for child_id in item.child_ids:
            outbox.publish(
                session,
                MeetingDecisionRecorded(
                    decision_id=decision.id,
                    agenda_item_id=item.id,
                    occurrence_id=occurrence.id,
                    series_id=series.id,
                    meeting_kind=series.meeting_type,
                    meeting_starts_at=occurrence.starts_at,
                    child_id=uuid.UUID(child_id),
                ),
            )
    return decision


def decisions_of(
    session: Session, principal: Principal, item_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Decision], str | None]:
    """The item's decisions, oldest first, ``limit`` at a time after ``cursor`` with the
    next page's cursor, for whoever may read its meeting (each child on the item an
    audited read); otherwise :class:`AgendaItemNotFound`, the refusal audited. Commits."""
    item = session.get(AgendaItem, item_id)
    if item is None:
        raise AgendaItemNotFound(f"There is no agenda item {item_id} that you can see.")
    if not may_read_occurrence(session, principal, item.occurrence_id):
        refuse_meeting_record(session, principal, item.occurrence_id, "decisions", item.id)
        raise AgendaItemNotFound(f"There is no agenda item {item_id} that you can see.")
    page = paginate(
        session,
        select(Decision).where(Decision.agenda_item_id == item_id),
        created_at=Decision.recorded_at,
        id_column=Decision.id,
        limit=limit,
        cursor=cursor,
        oldest_first=True,
    )
    audit_trail.record_for_children(session, principal, "read", "decisions", item.id, item.child_ids)
    session.commit()
    return page


SYSTEM = Principal(
    sub="system:events",
    agency="platform",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.meeting_coordinator}),
    # The platform itself puts a child rising to high on the next MACE: it runs meetings.
    capacities=frozenset({Capacity.chairs_meetings, Capacity.all_cases}),
)


def child_became_high(session: Session, event: dict[str, Any]) -> None:
    """A child whose risk rose to high goes on the next MACE agenda (once: the inbox
    ignores redeliveries, and the item's key ignores a second event)."""
    data = event.get("data") or {}
    if data.get("to") != "high":
        return
    # Checked first: a malformed event is refused whether or not a MACE meeting is near.
    child_id = str(uuid.UUID(str(data["child_id"])))
    occurrence = next_meeting_of_type(session, MeetingType.MACE, utc_now())
    if occurrence is None:
        return
    key = f"child:{child_id}"
    reason = {"code": ReasonCode.became_high.value, "detail": "Risk became high (risk service)"}
    item = session.scalar(
        select(AgendaItem).where(AgendaItem.occurrence_id == occurrence.id, AgendaItem.generation_key == key)
    )
    if item is None:
        position = (
            session.scalar(
                select(func.max(AgendaItem.position)).where(AgendaItem.occurrence_id == occurrence.id)
            )
            or 0
        ) + 1
        session.add(
            AgendaItem(
                occurrence_id=occurrence.id,
                position=position,
                kind=ItemKind.child,
                source=ItemSource.generated,
                generation_key=key,
                child_ids=[child_id],
                title=f"Child {child_id[:8]}",
                reasons=[reason],
            )
        )
    elif reason["code"] not in {r["code"] for r in item.reasons}:
        item.reasons = [*item.reasons, reason]
    session.flush()
    audit_trail.record_for_children(session, SYSTEM, "create", "agenda_item", occurrence.id, [child_id])
