"""Each child's assessed risk levels as the risk service announces them (``risk.assessed``),
kept here so that a support's level at its start and at its end is read from this service's
own table, never asked of the risk service per read.

Events reach this service in order per child, but possibly late (the risk service or this
one was down): an assessment heard of after a support started or ended fills in, or corrects,
the level of every support of the child whose start or end it precedes (and that no later
assessment also precedes)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api.children.service import surviving_child
from referral_api.support.models import AssessedRiskLevel, RiskLevel, Support
from referral_api.support.rules import level_at
from safeguarding_kit.cloudevents import event_time
from safeguarding_kit.db import utc_now

EVENT_TYPE = "risk.assessed"


def record_risk_assessed(session: Session, event: Mapping[str, Any]) -> None:
    """The risk service assessed a child (``data``: assessment_id, child_id, level; the
    event's ``time`` is when). Kept once per assessment: the same assessment announced again
    (a manager overrode its level) keeps its time and takes the new level. Then the child's
    supports take the levels now known. A child no longer held here (disposed of) is passed
    over. Bad data raises ``ValueError``/``KeyError`` (the inbox answers 422)."""
    data = event.get("data") or {}
    assessment_id = uuid.UUID(str(data["assessment_id"]))
    level = RiskLevel(str(data["level"]))
    child = surviving_child(session, uuid.UUID(str(data["child_id"])))
    if child is None:
        return
    assessed_at = event_time(event) if event.get("time") else utc_now()
    known = session.get(AssessedRiskLevel, assessment_id)
    if known is None:
        session.add(
            AssessedRiskLevel(
                assessment_id=assessment_id, child_id=child.id, level=level, assessed_at=assessed_at
            )
        )
    else:
        known.level = level
    session.flush()
    refresh_support_levels(session, child.id)


def level_for(session: Session, child_id: uuid.UUID, instant: datetime) -> RiskLevel | None:
    """The child's level at the latest assessment at or before ``instant``; None if none."""
    level: RiskLevel | None = session.scalar(
        select(AssessedRiskLevel.level)
        .where(AssessedRiskLevel.child_id == child_id, AssessedRiskLevel.assessed_at <= instant)
        .order_by(AssessedRiskLevel.assessed_at.desc())
        .limit(1)
    )
    return level


def refresh_support_levels(session: Session, child_id: uuid.UUID) -> None:
    """Set each started support's level at start (and, once ended, at end) of the child from
    the assessments known now; a support whose levels do not change is left as it is (its
    version too)."""
    levels = [
        (row.assessed_at, row.level)
        for row in session.execute(
            select(AssessedRiskLevel.assessed_at, AssessedRiskLevel.level).where(
                AssessedRiskLevel.child_id == child_id
            )
        )
    ]
    supports = session.scalars(
        select(Support).where(Support.child_id == child_id, Support.started_at.is_not(None))
    ).all()
    for support in supports:
        assert support.started_at is not None
        at_start = level_at(levels, support.started_at)
        at_end = level_at(levels, support.ended_at) if support.ended_at is not None else None
        if (support.risk_level_at_start, support.risk_level_at_end) != (at_start, at_end):
            support.risk_level_at_start, support.risk_level_at_end = at_start, at_end
    session.flush()
