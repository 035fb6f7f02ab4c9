"""Risk figures from the assessment history: children by level as at an instant,
movements between levels over a window, and assessments per child.

Every figure counts children, each carrying its fixed random key
(``child_risk.stats_key``), and every group comes with the sum of its children's keys
for the cell key method. Levels are read from the history, never from the current
row, so a figure about a past instant does not change when a child is assessed
again: an assessment counts from the moment it was made, and a manager's override
from the moment it was made (before that the computed level stood).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from risk_api.assessments.models import Assessment, ChildRisk
from risk_api.vocabularies import RiskLevel
from safeguarding_kit.figures import GroupCount
from safeguarding_kit.periods import Window

LEVELS = [level.value for level in RiskLevel]  # low, medium, high
NOT_ASSESSED = "none"
ASSESSMENT_BUCKETS = ["1", "2", "3", "4+"]


def levels_at(instant: datetime, name: str = "levels_at") -> Any:
    """A subquery (called ``name``): child_id and level for every child assessed before
    ``instant``, the level their latest assessment before then gave them then."""
    overridden_later = and_(Assessment.override_at.is_not(None), Assessment.override_at >= instant)
    # As text, so that "none" can stand beside the levels.
    level = cast(case((overridden_later, Assessment.computed_level), else_=Assessment.final_level), String)
    newest_first = func.row_number().over(
        partition_by=Assessment.child_id, order_by=(Assessment.assessed_at.desc(), Assessment.id.desc())
    )
    ranked = (
        select(Assessment.child_id.label("child_id"), level.label("level"), newest_first.label("newest"))
        .where(Assessment.assessed_at < instant)
        .subquery(f"{name}_ranked")
    )
    return select(ranked.c.child_id, ranked.c.level).where(ranked.c.newest == 1).subquery(name)


def _key_sum() -> Any:
    return func.coalesce(func.sum(ChildRisk.stats_key), 0)


def children_by_level(session: Session, instant: datetime) -> list[GroupCount]:
    """Children by level as at ``instant`` (those assessed before it), with key sums."""
    at = levels_at(instant)
    rows = session.execute(
        select(at.c.level, func.count(), _key_sum())
        .join(ChildRisk, ChildRisk.child_id == at.c.child_id)
        .group_by(at.c.level)
    ).all()
    return [(str(level), "all", int(n), int(k)) for level, n, k in rows]


def movements(session: Session, window: Window) -> list[GroupCount]:
    """Children assessed in the window (up to ``window.counted_until``), by their level
    as at its start (``none`` if not yet assessed) and as at ``counted_until``."""
    since, until = window.start, window.counted_until
    assessed = (
        select(Assessment.child_id)
        .where(Assessment.assessed_at >= since, Assessment.assessed_at < until)
        .distinct()
        .subquery("assessed")
    )
    before, after = levels_at(since, "level_before"), levels_at(until, "level_after")
    previous = func.coalesce(before.c.level, literal(NOT_ASSESSED))
    rows = session.execute(
        select(previous, after.c.level, func.count(), _key_sum())
        .select_from(assessed)
        .join(after, after.c.child_id == assessed.c.child_id)
        .join(ChildRisk, ChildRisk.child_id == assessed.c.child_id)
        .outerjoin(before, before.c.child_id == assessed.c.child_id)
        .group_by(previous, after.c.level)
    ).all()
    return [(str(p), str(c), int(n), int(k)) for p, c, n, k in rows]


def assessments_per_child(session: Session, window: Window) -> list[GroupCount]:
    """Children assessed in the window (up to ``counted_until``) by how many times: 1, 2,
    3, 4 or more."""
    per_child = (
        select(Assessment.child_id.label("child_id"), func.count().label("assessments"))
        .where(Assessment.assessed_at >= window.start, Assessment.assessed_at < window.counted_until)
        .group_by(Assessment.child_id)
        .subquery("per_child")
    )
    n = per_child.c.assessments
    bucket = case((n == 1, literal("1")), (n == 2, literal("2")), (n == 3, literal("3")), else_=literal("4+"))
    rows = session.execute(
        select(bucket, func.count(), _key_sum())
        .join(ChildRisk, ChildRisk.child_id == per_child.c.child_id)
        .group_by(bucket)
    ).all()
    return [(str(b), "all", int(count), int(k)) for b, count, k in rows]
