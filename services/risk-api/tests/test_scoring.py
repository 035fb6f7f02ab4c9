"""Scoring is pure arithmetic a worker can follow: weights add up, bands have exact
edges, hard triggers and age modifiers do what the model says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk_api.scoring import (
    AgeModifier,
    IndicatorSpec,
    Thresholds,
    UnknownIndicator,
    band,
    score_answers,
    trend,
)
from risk_api.vocabularies import Answer, RiskLevel, Trend

THRESHOLDS = Thresholds(medium_from=8, high_from=16)
INDICATORS = {
    "missing_repeat": IndicatorSpec("missing_repeat", 3),
    "exclusion": IndicatorSpec("exclusion", 2),
    "attendance_drop": IndicatorSpec("attendance_drop", 1),
    "hotel_with_adults": IndicatorSpec("hotel_with_adults", 3, hard_trigger=True),
}


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, RiskLevel.low),
        (7, RiskLevel.low),
        (8, RiskLevel.medium),
        (15, RiskLevel.medium),
        (16, RiskLevel.high),
    ],
)
def test_band_lower_edges_are_inclusive(score, level):
    assert band(score, THRESHOLDS) is level


@given(
    st.dictionaries(st.sampled_from(sorted(INDICATORS)), st.sampled_from(list(Answer))),
    st.one_of(st.none(), st.integers(0, 25)),
)
def test_contributions_add_up_to_the_score(answers, age):
    modifiers = [AgeModifier(max_age=13, points=3)]
    scoring = score_answers(INDICATORS, answers, THRESHOLDS, age=age, age_modifiers=modifiers)
    assert sum(scoring.contributions.values()) + scoring.age_points == scoring.score
    for code, points in scoring.contributions.items():
        assert points == (INDICATORS[code].weight if answers.get(code) is Answer.present else 0)


def test_not_known_adds_nothing_and_is_not_treated_as_absent_evidence():
    scoring = score_answers(INDICATORS, {"missing_repeat": Answer.not_known}, THRESHOLDS)
    assert scoring.score == 0


def test_a_hard_trigger_makes_the_child_high_whatever_the_total():
    scoring = score_answers(INDICATORS, {"hotel_with_adults": Answer.present}, THRESHOLDS)
    assert (scoring.score, scoring.level, scoring.hard_triggers) == (3, RiskLevel.high, ["hotel_with_adults"])


def test_age_modifier_applies_to_children_of_that_age_or_younger():
    modifiers = [AgeModifier(max_age=13, points=3), AgeModifier(max_age=11, points=5)]
    answers = {"missing_repeat": Answer.present, "exclusion": Answer.present}
    assert score_answers(INDICATORS, answers, THRESHOLDS, age=13, age_modifiers=modifiers).score == 8
    assert score_answers(INDICATORS, answers, THRESHOLDS, age=11, age_modifiers=modifiers).score == 10
    assert score_answers(INDICATORS, answers, THRESHOLDS, age=14, age_modifiers=modifiers).score == 5
    assert score_answers(INDICATORS, answers, THRESHOLDS, age=None, age_modifiers=modifiers).score == 5


def test_an_answer_for_an_indicator_not_in_the_model_is_refused():
    with pytest.raises(UnknownIndicator, match="made_up"):
        score_answers(INDICATORS, {"made_up": Answer.present}, THRESHOLDS)


def test_thresholds_must_rise():
    with pytest.raises(ValueError, match="medium_from < high_from"):
        Thresholds(medium_from=10, high_from=10)


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([RiskLevel.high], Trend.first),
        ([RiskLevel.high, RiskLevel.medium, RiskLevel.low], Trend.rising),
        ([RiskLevel.low, RiskLevel.high], Trend.falling),
        ([RiskLevel.medium, RiskLevel.medium], Trend.steady),
    ],
)
def test_trend_compares_the_latest_level_with_the_one_before(levels, expected):
    assert trend(levels) is expected
