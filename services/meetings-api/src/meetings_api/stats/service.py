"""Meeting action figures: actions falling due in a window, by owning agency and
outcome, each action as it stood at the instant the window is counted to.

Each action carries a fixed random key (``actions.stats_key``); every group comes with
the sum of its actions' keys for the cell key method. An action counts only once it was
agreed, and its outcome is the one it had then (done when it was done, cancelled when
it was cancelled), so a figure about a past instant does not move when an action is
agreed, done or cancelled later.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings_api.actions.models import Action, ActionStatus
from safeguarding_kit.figures import GroupCount
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.periods import Window, england_day

OUTCOMES = ["done_on_time", "done_late", "overdue", "not_yet_due", "cancelled"]
OTHER_AGENCY = "other"


def agency_rows(agreement: Agreement) -> list[str]:
    """Every agency of the agreement (a family such as ``school-*`` as one row), then
    ``other`` for owners the agreement does not name."""
    return [*(e.slug or e.pattern or e.name for e in agreement.agencies), OTHER_AGENCY]


def agency_row(agreement: Agreement, owner: str) -> str:
    """The row an owning agency is counted in: its slug, its family's pattern, or other."""
    entry = agreement.agency(owner)
    if entry is None:
        return OTHER_AGENCY
    return entry.slug or entry.pattern or entry.name


def outcome_at(
    instant: datetime,
    due: date,
    status: ActionStatus,
    completed_at: datetime | None,
    cancelled_at: datetime | None,
) -> str:
    """The action's outcome as at ``instant``: done on time (by the end of its due day in
    England) or late, cancelled, overdue (its due day passed in England) or not yet due."""
    if status is ActionStatus.cancelled and (cancelled_at is None or cancelled_at < instant):
        return "cancelled"
    if status is ActionStatus.done and completed_at is not None and completed_at < instant:
        return "done_on_time" if england_day(completed_at) <= due else "done_late"
    return "overdue" if due < england_day(instant) else "not_yet_due"


def actions_by_agency_and_outcome(session: Session, agreement: Agreement, window: Window) -> list[GroupCount]:
    """Actions falling due in the window's days and agreed before ``window.counted_until``,
    by owning agency's row and outcome as at then, with key sums."""
    instant = window.counted_until
    rows = session.execute(
        select(
            Action.owner_agency,
            Action.due_date,
            Action.status,
            Action.completed_at,
            Action.cancelled_at,
            Action.stats_key,
        ).where(
            Action.due_date >= window.first_day,
            Action.due_date < window.end_day,
            Action.created_at < instant,
        )
    ).all()
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for owner, due, status, completed_at, cancelled_at, key in rows:
        group = groups[
            (agency_row(agreement, owner), outcome_at(instant, due, status, completed_at, cancelled_at))
        ]
        group[0] += 1
        group[1] += int(key)
    return [(agency, outcome, n, k) for (agency, outcome), (n, k) in groups.items()]
