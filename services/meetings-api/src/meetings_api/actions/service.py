"""Business rules for actions: agreed against an agenda item, owned by an agency,
carried forward to later meetings until done."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from meetings_api import audit_trail
from meetings_api.access import reads_meetings
from meetings_api.actions.events import (
    CLOSURES,
    ActionOverdue,
    MeetingActionAgreed,
    MeetingActionClosed,
    MeetingActionReopened,
)
from meetings_api.actions.models import Action, ActionStatus
from meetings_api.actions.schemas import ActionCreate, ActionUpdate
from meetings_api.agendas.service import get_item
from meetings_api.occurrences.service import get_occurrence, meetings_of_series_chain
from meetings_api.series.models import MeetingSeries
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement, UnknownAgency
from safeguarding_kit.problems import FieldError, NotFound, Problem


class ActionNotFound(NotFound):
    slug, title = "action-not-found", "Action not found"


class DueBeforeMeeting(Problem):
    """An action cannot fall due before the meeting that agreed it."""

    status, slug, title = 422, "due-before-meeting", "Due date before the meeting"


class ChildNotOnItem(Problem):
    """An action's child must be one of the children of the agenda item that agreed it."""

    status, slug, title = 422, "child-not-on-item", "The child is not on this agenda item"


def agree_action(
    session: Session,
    principal: Principal,
    item_id: uuid.UUID,
    data: ActionCreate,
    agreement: Agreement,
    outbox: Outbox,
) -> Action:
    """An action agreed against an agenda item, owned by an agency of the partnership
    agreement (the owner hears of it when overdue and reads it); one about a child is
    announced (``meeting.action_agreed``, ids only). Does not commit: the caller (the
    idempotent create) commits with its answer, and the event with it."""
    if not agreement.knows_agency(data.owner_agency):
        raise UnknownAgency(
            f"'{data.owner_agency}' is not an agency of the partnership agreement "
            "(GET /api/v1/partnership lists them).",
            errors=[FieldError(detail="not an agency of the agreement", pointer="#/owner_agency")],
        )
    item = get_item(session, item_id)
    if data.child_id is not None and str(data.child_id) not in item.child_ids:
        raise ChildNotOnItem(
            "An action's child must be one of the agenda item's children.",
            errors=[FieldError(detail="not on this agenda item", pointer="#/child_id")],
        )
    occurrence = get_occurrence(session, item.occurrence_id)
    if data.due_date < occurrence.starts_at.date():
        raise DueBeforeMeeting(
            "An action cannot fall due before the meeting that agreed it.",
            errors=[FieldError(detail="is before the meeting", pointer="#/due_date")],
        )
    action = Action(
        series_id=occurrence.series_id,
        occurrence_id=occurrence.id,
        agenda_item_id=item.id,
        created_by=principal.sub,
        **data.model_dump(),
    )
    session.add(action)
    session.flush()
    audit_trail.record_for_children(
        session, principal, "create", "action", action.id, [data.child_id] if data.child_id else []
    )
    if action.child_id is not None:
        series = session.get_one(MeetingSeries, occurrence.series_id)
        outbox.publish(
            session,
            MeetingActionAgreed(
                action_id=action.id,
                occurrence_id=occurrence.id,
                series_id=series.id,
                meeting_kind=series.meeting_type,
                child_id=action.child_id,
                owner_agency=action.owner_agency,
                due_date=action.due_date,
            ),
        )
    return action


def update_action(
    session: Session,
    principal: Principal,
    action_id: uuid.UUID,
    change: ActionUpdate,
    if_match: str | None,
    outbox: Outbox,
) -> Action:
    """The action marked done, cancelled or open again, under If-Match. An action about a
    child that becomes done or cancelled is announced (``meeting.action_closed``), and one
    opened again (``meeting.action_reopened``), in the same transaction. Commits."""
    action = session.get(Action, action_id)
    if action is None:
        raise ActionNotFound(f"There is no action {action_id}.")
    check_if_match(if_match, action.row_version)
    closed = change.status != action.status and change.status in CLOSURES
    reopened = action.status in CLOSURES and change.status is ActionStatus.open
    if change.status != action.status:  # marking done again keeps when it was done
        now = utc_now()
        action.completed_at = now if change.status is ActionStatus.done else None
        action.cancelled_at = now if change.status is ActionStatus.cancelled else None
    action.status = change.status
    session.flush()
    audit_trail.record_for_children(
        session, principal, "update", "action", action.id, [action.child_id] if action.child_id else []
    )
    if closed and action.child_id is not None:
        outbox.publish(
            session,
            MeetingActionClosed(
                action_id=action.id,
                child_id=action.child_id,
                owner_agency=action.owner_agency,
                status=CLOSURES[change.status],
            ),
        )
    if reopened and action.child_id is not None:
        outbox.publish(
            session,
            MeetingActionReopened(
                action_id=action.id, child_id=action.child_id, owner_agency=action.owner_agency
            ),
        )
    session.commit()
    return action


def actions_for_meeting(
    session: Session, occurrence_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Action], str | None]:
    """Actions agreed at this meeting, and those carried forward: still open from
    earlier meetings of the same series; in the order they were agreed (oldest first),
    ``limit`` at a time after ``cursor``, with the next page's cursor."""
    occurrence = get_occurrence(session, occurrence_id)
    series_meetings = meetings_of_series_chain(session, occurrence)
    stmt = select(Action).where(
        Action.occurrence_id.in_(series_meetings),
        (Action.occurrence_id == occurrence.id) | (Action.status == ActionStatus.open),
    )
    return paginate(
        session,
        stmt,
        created_at=Action.created_at,
        id_column=Action.id,
        limit=limit,
        cursor=cursor,
        oldest_first=True,
    )


def partner_may_hear_of(session: Session, principal: Principal, subject: str) -> bool:
    """Whether a partner agency's webhook hears about actions on ``subject`` (a child's id,
    or an action's when it concerns no child).

    An agency the partnership agreement grants ``chairs_meetings`` hears of every action:
    its case workers read every meeting and every overdue action through this API
    already. ``all_cases`` alone is not enough (the MASH health team sees every child's
    case but reads only the meetings it is invited to), so that the webhook never tells
    an agency more than the API would show it. Any other agency hears only of the
    actions its own people own. No rule here looks at an agency's type."""
    if reads_meetings(principal):
        return True
    try:
        subject_id = uuid.UUID(subject)
    except ValueError:
        return False
    owned = select(Action.id).where(
        Action.owner_agency == principal.agency,
        or_(Action.child_id == subject_id, Action.id == subject_id),
    )
    return session.scalar(owned.limit(1)) is not None


def announce_overdue_actions(session: Session, outbox: Outbox, today: date, *, batch: int = 500) -> int:
    """Write ``meeting.action_overdue`` once for each open action past its due date (ids,
    the owning agency and the date only); returns how many were announced. Commits."""
    due = session.execute(
        select(Action.id, Action.child_id, Action.occurrence_id, Action.owner_agency, Action.due_date)
        .where(
            Action.status == ActionStatus.open,
            Action.due_date < today,
            Action.overdue_announced_at.is_(None),
        )
        .order_by(Action.due_date, Action.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if due:
        # Straight to the table: announcing is not an edit, so the action's ETag stays valid.
        actions = cast(Table, Action.__table__)
        session.execute(
            update(actions)
            .where(actions.c.id.in_([a.id for a in due]))
            .values(overdue_announced_at=utc_now())
        )
    for action in due:
        outbox.publish(
            session,
            ActionOverdue(
                action_id=action.id,
                child_id=action.child_id,
                occurrence_id=action.occurrence_id,
                owner_agency=action.owner_agency,
                due_date=action.due_date,
            ),
        )
    session.commit()
    return len(due)


def is_overdue(action: Action, today: date) -> bool:
    """True for an open action whose due date is before ``today``."""
    return action.status is ActionStatus.open and action.due_date < today


def overdue_by_agency(session: Session, today: date, owner_agency: str | None) -> dict[str, list[Action]]:
    """Open actions past their due date, grouped by the agency that owns them."""
    stmt = select(Action).where(Action.status == ActionStatus.open, Action.due_date < today)
    if owner_agency:
        stmt = stmt.where(Action.owner_agency == owner_agency)
    grouped: dict[str, list[Action]] = defaultdict(list)
    for action in session.scalars(stmt.order_by(Action.owner_agency, Action.due_date)):
        grouped[action.owner_agency].append(action)
    return dict(grouped)
