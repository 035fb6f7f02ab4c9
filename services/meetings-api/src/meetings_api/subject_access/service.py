"""The subject access extract of what the meetings held about one child: every agenda
item that discussed them, its minutes and decisions, and the actions about them, with
other children taken out (their ids from the item, and from its text)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from meetings_api import audit_trail
from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.database import AUDIT
from meetings_api.occurrences.models import Occurrence
from meetings_api.series.models import MeetingSeries
from meetings_api.subject_access.schemas import (
    ExtractAction,
    ExtractAgendaItem,
    ExtractDecision,
    ExtractMeeting,
    ExtractReason,
    MeetingsSubjectAccessExtract,
)
from safeguarding_kit.audit.recipients import recipients_of_child
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now

ANOTHER_CHILD = "[another child]"
# Generated items name a child by the first 8 characters of their id ("Child 5b0e8c3a").
SHORT_ID = 8


def _other_child_ids(others: Collection[str]) -> re.Pattern[str] | None:
    """Another child's id, whole or as the short form items use, in text."""
    if not others:
        return None
    forms = sorted({form for other in others for form in (other, other[:SHORT_ID])}, key=len, reverse=True)
    return re.compile(r"(?<![0-9a-fA-F-])(?:" + "|".join(map(re.escape, forms)) + r")(?![0-9a-fA-F])", re.I)


def without_other_children(text: str, others: re.Pattern[str] | None) -> str:
    """``text`` with every other child's id replaced by "[another child]"."""
    return text if others is None else others.sub(ANOTHER_CHILD, text)


def _item(
    item: AgendaItem, child_id: str, meeting: ExtractMeeting, decisions: list[Decision]
) -> ExtractAgendaItem:
    others = _other_child_ids([c for c in item.child_ids if c != child_id])
    return ExtractAgendaItem(
        id=item.id,
        meeting=meeting,
        kind=item.kind,
        title=without_other_children(item.title, others),
        reasons=[
            ExtractReason(code=str(r.get("code", "")), detail=str(r.get("detail", "")))
            for r in item.reasons
            # A group's reasons include each other child's own ("Child 6c1f9d4b: ..."): not this child's.
            if others is None or not others.search(str(r.get("detail", "")))
        ],
        minutes=None if item.minutes is None else without_other_children(item.minutes, others),
        with_other_children=others is not None,
        decisions=[
            ExtractDecision(id=d.id, text=without_other_children(d.text, others), recorded_at=d.recorded_at)
            for d in decisions
        ],
    )


def subject_access_extract(
    session: Session, principal: Principal, child_id: uuid.UUID
) -> MeetingsSubjectAccessExtract:
    """Everything the meetings held about the child (an empty extract for a child never
    discussed), for a subject access request; the read is audited. Commits."""
    wanted = str(child_id)
    rows = session.execute(
        select(AgendaItem, Occurrence, MeetingSeries)
        .join(Occurrence, Occurrence.id == AgendaItem.occurrence_id)
        .join(MeetingSeries, MeetingSeries.id == Occurrence.series_id)
        # The ids are a JSON list: found by text first, then checked exactly.
        .where(cast(AgendaItem.child_ids, String).like(f"%{wanted}%"))
        .order_by(Occurrence.starts_at, AgendaItem.position, AgendaItem.id)
    ).all()
    rows = [row for row in rows if wanted in row.AgendaItem.child_ids]
    item_ids = [row.AgendaItem.id for row in rows]
    decisions: dict[uuid.UUID, list[Decision]] = {}
    for decision in session.scalars(
        select(Decision)
        .where(Decision.agenda_item_id.in_(item_ids))
        .order_by(Decision.recorded_at, Decision.id)
    ):
        decisions.setdefault(decision.agenda_item_id, []).append(decision)
    items = [
        _item(
            row.AgendaItem,
            wanted,
            ExtractMeeting(
                meeting_type=row.MeetingSeries.meeting_type,
                series_title=row.MeetingSeries.title,
                starts_at=row.Occurrence.starts_at,
                status=row.Occurrence.status,
            ),
            decisions.get(row.AgendaItem.id, []),
        )
        for row in rows
    ]
    others_by_item = {
        row.AgendaItem.id: _other_child_ids([c for c in row.AgendaItem.child_ids if c != wanted])
        for row in rows
    }
    actions = session.scalars(
        select(Action)
        .where(
            or_(
                Action.child_id == child_id,
                # An action on one of the child's items about nobody in particular.
                Action.child_id.is_(None) & Action.agenda_item_id.in_(item_ids),
            )
        )
        .order_by(Action.created_at, Action.id)
    ).all()
    extract = MeetingsSubjectAccessExtract(
        child_id=child_id,
        extracted_at=utc_now(),
        agenda_items=items,
        actions=[
            ExtractAction(
                id=a.id,
                agenda_item_id=a.agenda_item_id,
                description=without_other_children(
                    a.description, others_by_item.get(a.agenda_item_id) if a.agenda_item_id else None
                ),
                owner_agency=a.owner_agency,
                owner_person_recorded=bool(a.owner_person),
                due_date=a.due_date,
                status=a.status,
                completed_at=a.completed_at,
                created_at=a.created_at,
            )
            for a in actions
        ],
        access=recipients_of_child(session, AUDIT, [child_id]),
    )
    audit_trail.record_for_children(
        session,
        principal,
        "read",
        "subject_access_extract",
        child_id,
        [child_id],
        detail=f"{len(items)} agenda items, {len(extract.actions)} actions",
    )
    session.commit()
    return extract
