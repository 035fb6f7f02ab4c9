"""What a meeting recorded about one child goes with that child's record: when the referral
service disposes of a child (``child.disposed``), the child's id leaves every agenda item
and action, and the free text of what was about that child alone is replaced by a neutral
placeholder. What the action figures count stays, so no figure moves. A disposal record
and an audit record say it happened, never what went."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, delete, or_, select
from sqlalchemy.orm import Session

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision, ItemKind
from meetings_api.audit_trail import TRAIL
from meetings_api.database import DISPOSALS, EVENTS, IDEMPOTENCY
from safeguarding_kit.db import utc_now
from safeguarding_kit.idempotency import forget_answers_for
from safeguarding_kit.retention.notices import CHILD_DISPOSED, EVENTS_ACTOR, ChildDisposalNotice

EVENT_TYPE = CHILD_DISPOSED
ITEM_TITLE = "Item about a child whose record was disposed of"
DECISION_TEXT = "Decision about a child whose record was disposed of"
ACTION_DESCRIPTION = "Action about a child whose record was disposed of"
# Items whose whole subject is the children on them; a person or place of concern is an
# item's subject of its own (kept under its own retention), the child only linked to it.
ABOUT_CHILDREN = (ItemKind.child, ItemKind.children_group, ItemKind.other)


@dataclass(frozen=True)
class ChildRecordsDisposed:
    """What went of what meetings recorded about one child (counts only)."""

    items_about_the_child: int
    items_shared: int
    decisions: int
    actions: int
    outbox_events: int

    @property
    def anything(self) -> bool:
        return bool(self.items_about_the_child or self.items_shared or self.actions or self.outbox_events)


def _items_naming(session: Session, child: str) -> list[AgendaItem]:
    # The ids are stored as JSON text on both databases; a child id is matched whole below.
    candidates = session.scalars(
        select(AgendaItem).where(
            or_(
                cast(AgendaItem.child_ids, String).contains(child),
                AgendaItem.generation_key == f"child:{child}",
            )
        )
    )
    return [item for item in candidates if child in item.child_ids or item.generation_key == f"child:{child}"]


def _forget_outbox(session: Session, child: str) -> int:
    """Drop the child's events (overdue actions about them) from the outbox, sent or not."""
    events, deliveries = EVENTS.events, EVENTS.deliveries
    seqs = list(session.scalars(select(events.c.seq).where(events.c.subject == child)))
    if seqs:
        session.execute(delete(deliveries).where(deliveries.c.event_seq.in_(seqs)))
        session.execute(delete(events).where(events.c.seq.in_(seqs)))
    session.execute(delete(deliveries).where(deliveries.c.subject == child))
    return len(seqs)


def dispose_of_childs_meeting_records(session: Session, child_id: uuid.UUID) -> ChildRecordsDisposed:
    """Take the child's id off every agenda item and action. An item about that child
    alone loses its title (a placeholder stands), reasons, minutes, the key that tied it
    to the child and its decisions' texts; an item shared with other children or about a
    person or place of concern loses the child's id and the reasons that named the child
    (its minutes are about the others too and stay). Actions about the child keep what the
    figures count (status, owner agency, due date, completion and cancellation times, cell
    key) and lose the child and their description. First answers stored for retries go.
    Does not commit."""
    child = str(child_id)
    about_alone = shared = decisions = 0
    for item in _items_naming(session, child):
        remaining = [c for c in item.child_ids if c != child]
        alone = not remaining and item.kind in ABOUT_CHILDREN
        item.child_ids = remaining
        if item.generation_key == f"child:{child}":
            item.generation_key = None  # a rebuilt agenda never finds it again
        if alone:
            about_alone += 1
            item.title = ITEM_TITLE
            item.reasons = []
            item.minutes = None
            for decision in list(session.scalars(select(Decision).where(Decision.agenda_item_id == item.id))):
                decision.text = DECISION_TEXT
                forget_answers_for(session, IDEMPOTENCY, resource_id=str(decision.id))
                decisions += 1
        else:
            shared += 1
            # A grouped item gives each child's reasons as "Child 1a2b3c4d: ...".
            item.reasons = [
                r for r in item.reasons if not str(r.get("detail", "")).startswith(f"Child {child[:8]}")
            ]
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(item.id))
    actions = list(session.scalars(select(Action).where(Action.child_id == child_id)))
    for action in actions:
        action.child_id = None
        action.description = ACTION_DESCRIPTION
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(action.id))
    outbox = _forget_outbox(session, child)
    session.flush()
    return ChildRecordsDisposed(
        items_about_the_child=about_alone,
        items_shared=shared,
        decisions=decisions,
        actions=len(actions),
        outbox_events=outbox,
    )


def child_disposed(session: Session, event: Mapping[str, Any], schedule_version: str) -> None:
    """The referral service disposed of a child's record: dispose of what meetings recorded
    about the child, with one disposal record per record class the event names and one
    audit record. An event about a child no meeting recorded (or a repeat) changes and
    records nothing. ``schedule_version`` is this service's schedule's, for an event that
    names none."""
    disposed = ChildDisposalNotice.from_event(event)
    done = dispose_of_childs_meeting_records(session, disposed.child_id)
    if not done.anything:
        return
    disposed.record(session, DISPOSALS, schedule_version=schedule_version, at=utc_now())
    session.flush()
    TRAIL.record(
        session,
        EVENTS_ACTOR,
        "dispose",
        "meeting_records",
        disposed.child_id,
        disposed.child_id,
        detail=(
            f"{EVENT_TYPE} {disposed.event_id}: {done.items_about_the_child + done.items_shared} "
            f"agenda items, {done.decisions} decisions, {done.actions} actions"
        )[:255],
    )
