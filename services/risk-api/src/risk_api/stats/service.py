"""Risk figures from the assessment history: children by level as at an instant,
movements between levels over a window, and assessments per child.

Every figure counts children, each carrying its fixed random key
(``child_risk.stats_key``), and every group comes with the sum of its children's keys
for the cell key method. Levels are read from the history, never from the current
row, so a figure about a past instant does not change when a child is assessed
again: an assessment counts from the moment it was made, and a manager's override
from the moment it was made (before that the computed level stood). Nor does it change
when a child's record is disposed of: the history is the live assessments and the
de-identified facts kept of disposed children's (:func:`assessment_history`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from risk_api.assessments.models import Assessment, ChildRisk
from risk_api.disposal.models import DisposedAssessmentFact
from risk_api.vocabularies import RiskLevel
from safeguarding_kit.figures import GroupCount
from safeguarding_kit.periods import Window

LEVELS = [level.value for level in RiskLevel]  # low, medium, high
NOT_ASSESSED = "none"
ASSESSMENT_BUCKETS = ["1", "2", "3", "4+"]


def assessment_history(name: str = "assessment_history") -> Any:
    """A subquery (called ``name``) of every assessment the figures count: the live ones
    and the facts kept of disposed children's, alike. Each row has ``child_key`` (a live
    child's id, or a disposed child's random subject key), ``tiebreak`` (orders a child's
    assessments made at the same instant), ``assessed_at``, ``computed_level``,
    ``final_level``, ``override_at`` and the child's ``stats_key``. A disposed child counts
    exactly as they did, so no figure about any period moves with a disposal."""
    live = select(
        Assessment.child_id.label("child_key"),
        Assessment.id.label("tiebreak"),
        Assessment.assessed_at.label("assessed_at"),
        Assessment.computed_level.label("computed_level"),
        Assessment.final_level.label("final_level"),
        Assessment.override_at.label("override_at"),
        ChildRisk.stats_key.label("stats_key"),
    ).join(ChildRisk, ChildRisk.child_id == Assessment.child_id)
    kept = select(
        DisposedAssessmentFact.subject_key,
        DisposedAssessmentFact.id,
        DisposedAssessmentFact.assessed_at,
        DisposedAssessmentFact.computed_level,
        DisposedAssessmentFact.final_level,
        DisposedAssessmentFact.override_at,
        DisposedAssessmentFact.stats_key,
    )
    return union_all(live, kept).subquery(name)


def levels_at(instant: datetime, name: str = "levels_at") -> Any:
    """A subquery (called ``name``): child_key, level and stats_key for every child
    assessed before ``instant``, the level their latest assessment before then gave them
    then."""
    history = assessment_history(f"{name}_history")
    overridden_later = and_(history.c.override_at.is_not(None), history.c.override_at >= instant)
    # As text, so that "none" can stand beside the levels.
    level = cast(case((overridden_later, history.c.computed_level), else_=history.c.final_level), String)
    newest_first = func.row_number().over(
        partition_by=history.c.child_key, order_by=(history.c.assessed_at.desc(), history.c.tiebreak.desc())
    )
    ranked = (
        select(
            history.c.child_key,
            level.label("level"),
            history.c.stats_key,
            newest_first.label("newest"),
        )
        .where(history.c.assessed_at < instant)
        .subquery(f"{name}_ranked")
    )
    return (
        select(ranked.c.child_key, ranked.c.level, ranked.c.stats_key)
        .where(ranked.c.newest == 1)
        .subquery(name)
    )


def _key_sum(keys: Any) -> Any:
    return func.coalesce(func.sum(keys), 0)


def children_by_level(session: Session, instant: datetime) -> list[GroupCount]:
    """Children by level as at ``instant`` (those assessed before it), with key sums."""
    at = levels_at(instant)
    rows = session.execute(
        select(at.c.level, func.count(), _key_sum(at.c.stats_key)).group_by(at.c.level)
    ).all()
    return [(str(level), "all", int(n), int(k)) for level, n, k in rows]


def movements(session: Session, window: Window) -> list[GroupCount]:
    """Children assessed in the window (up to ``window.counted_until``), by their level
    as at its start (``none`` if not yet assessed) and as at ``counted_until``."""
    since, until = window.start, window.counted_until
    history = assessment_history("assessed_history")
    assessed = (
        select(history.c.child_key, history.c.stats_key)
        .where(history.c.assessed_at >= since, history.c.assessed_at < until)
        .distinct()
        .subquery("assessed")
    )
    before, after = levels_at(since, "level_before"), levels_at(until, "level_after")
    previous = func.coalesce(before.c.level, literal(NOT_ASSESSED))
    rows = session.execute(
        select(previous, after.c.level, func.count(), _key_sum(assessed.c.stats_key))
        .select_from(assessed)
        .join(after, after.c.child_key == assessed.c.child_key)
        .outerjoin(before, before.c.child_key == assessed.c.child_key)
        .group_by(previous, after.c.level)
    ).all()
    return [(str(p), str(c), int(n), int(k)) for p, c, n, k in rows]


def assessments_per_child(session: Session, window: Window) -> list[GroupCount]:
    """Children assessed in the window (up to ``counted_until``) by how many times: 1, 2,
    3, 4 or more."""
    history = assessment_history()
    per_child = (
        select(history.c.child_key, history.c.stats_key, func.count().label("assessments"))
        .where(history.c.assessed_at >= window.start, history.c.assessed_at < window.counted_until)
        .group_by(history.c.child_key, history.c.stats_key)
        .subquery("per_child")
    )
    n = per_child.c.assessments
    bucket = case((n == 1, literal("1")), (n == 2, literal("2")), (n == 3, literal("3")), else_=literal("4+"))
    rows = session.execute(
        select(bucket, func.count(), _key_sum(per_child.c.stats_key)).group_by(bucket)
    ).all()
    return [(str(b), "all", int(count), int(k)) for b, count, k in rows]
