"""Scoring an assessment: pure functions, no database.

An indicator answered ``present`` contributes its weight; ``absent`` and
``not_known`` contribute nothing (a worker sees which are unknown, and the score
never pretends to know). Age modifiers add points for younger children. The total
falls in a band with the lower edge inclusive:

    score <  medium_from              -> low
    medium_from <= score < high_from  -> medium
    high_from <= score                -> high

and any hard trigger answered ``present`` makes the level high whatever the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from risk_api.vocabularies import LEVEL_ORDER, Answer, RiskLevel, Trend


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    weight: int
    hard_trigger: bool = False


@dataclass(frozen=True)
class Thresholds:
    medium_from: int
    high_from: int

    def __post_init__(self) -> None:
        if not 0 < self.medium_from < self.high_from:
            raise ValueError("thresholds need 0 < medium_from < high_from")


@dataclass(frozen=True)
class AgeModifier:
    """``points`` added when the child is ``max_age`` or younger."""

    max_age: int
    points: int


@dataclass(frozen=True)
class Scoring:
    score: int
    level: RiskLevel
    contributions: dict[str, int]
    age_points: int = 0
    hard_triggers: list[str] = field(default_factory=list)


class UnknownIndicator(ValueError):
    """An answer names an indicator the model does not have."""

    def __init__(self, code: str) -> None:
        super().__init__(f"indicator {code!r} is not in this model")
        self.code = code


def band(score: int, thresholds: Thresholds) -> RiskLevel:
    """The level a total falls in (lower edges inclusive)."""
    if score >= thresholds.high_from:
        return RiskLevel.high
    if score >= thresholds.medium_from:
        return RiskLevel.medium
    return RiskLevel.low


def age_points(age: int | None, modifiers: Sequence[AgeModifier]) -> int:
    """The largest modifier that applies to a child of ``age`` (none when age is unknown)."""
    if age is None:
        return 0
    return max((m.points for m in modifiers if age <= m.max_age), default=0)


def score_answers(
    indicators: Mapping[str, IndicatorSpec],
    answers: Mapping[str, Answer],
    thresholds: Thresholds,
    *,
    age: int | None = None,
    age_modifiers: Sequence[AgeModifier] = (),
) -> Scoring:
    """Score, level, each indicator's contribution and the hard triggers that fired."""
    for code in answers:
        if code not in indicators:
            raise UnknownIndicator(code)
    contributions = {
        code: (spec.weight if answers.get(code) is Answer.present else 0) for code, spec in indicators.items()
    }
    extra = age_points(age, age_modifiers)
    score = sum(contributions.values()) + extra
    triggered = sorted(
        code for code, spec in indicators.items() if spec.hard_trigger and answers.get(code) is Answer.present
    )
    level = RiskLevel.high if triggered else band(score, thresholds)
    return Scoring(
        score=score, level=level, contributions=contributions, age_points=extra, hard_triggers=triggered
    )


def trend(levels_newest_first: Sequence[RiskLevel]) -> Trend:
    """Rising, steady or falling: the latest level against the one before."""
    if len(levels_newest_first) < 2:
        return Trend.first
    latest, previous = (LEVEL_ORDER[level] for level in levels_newest_first[:2])
    if latest > previous:
        return Trend.rising
    if latest < previous:
        return Trend.falling
    return Trend.steady


def next_review_due(
    level: RiskLevel, assessed_at: datetime, review_days: Mapping[RiskLevel, int]
) -> datetime:
    """When the child's risk must be reviewed again: sooner for higher risk."""
    return assessed_at + timedelta(days=review_days[level])
