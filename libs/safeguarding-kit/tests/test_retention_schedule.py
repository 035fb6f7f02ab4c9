"""The retention schedule is configuration a partnership can change, every record class
has a rule and an authority, and the rules say the day a record may go."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from safeguarding_kit.retention.schedule import (
    DEFAULT_SCHEDULE_FILE,
    RecordClass,
    RetentionRule,
    disposal_due,
    latest_due,
    load_schedule,
)
from safeguarding_kit.settings import DatabaseSettings


def test_the_default_schedule_gives_every_record_class_a_rule_an_authority_and_a_source():
    schedule = load_schedule()
    assert set(schedule.record_classes) == set(RecordClass)
    for record_class, entry in schedule.record_classes.items():
        assert entry.authority.strip(), record_class
        assert entry.source is not None, record_class


def test_the_defaults_follow_the_inquiry_the_nhs_code_and_the_looked_after_regulations():
    schedule = load_schedule()
    assert schedule.rule(RecordClass.exploitation_case_record).years_after_last_activity == 75
    assert (
        "Independent Inquiry into Child Sexual Abuse"
        in schedule.record_classes[RecordClass.exploitation_case_record].authority
    )
    assert schedule.rule(RecordClass.looked_after_case_record).until_birthday == 75
    assert schedule.rule(RecordClass.no_further_action_referral).until_birthday == 25
    assert schedule.rule(RecordClass.audit_record).kept


def test_a_rule_that_is_a_birthday_falls_due_on_that_birthday():
    rule = RetentionRule(until_birthday=25)
    assert disposal_due(rule, last_activity=date(2010, 5, 1), born=date(2001, 3, 14)) == date(2026, 3, 14)


def test_a_child_born_on_29_february_reaches_the_birthday_on_28_february_in_a_common_year():
    rule = RetentionRule(until_birthday=25)
    assert disposal_due(rule, last_activity=date(2010, 5, 1), born=date(2008, 2, 29)) == date(2033, 2, 28)


def test_a_period_after_the_last_activity_ends_the_day_before_the_record_may_go():
    rule = RetentionRule(years_after_last_activity=6)
    assert disposal_due(rule, last_activity=date(2019, 7, 31)) == date(2025, 8, 1)


def test_a_kept_record_and_a_birthday_rule_without_a_birthday_never_fall_due():
    assert disposal_due(RetentionRule(kept=True), last_activity=date(1990, 1, 1)) is None
    assert disposal_due(RetentionRule(until_birthday=25), last_activity=date(1990, 1, 1), born=None) is None


def test_a_record_under_several_classes_goes_only_when_every_class_lets_it():
    assert latest_due([date(2030, 1, 1), date(2090, 6, 1)]) == date(2090, 6, 1)
    assert latest_due([date(2030, 1, 1), None]) is None
    assert latest_due([]) is None


@pytest.mark.parametrize(
    "rule",
    [{}, {"until_birthday": 25, "kept": True}, {"years_after_last_activity": 6, "until_birthday": 25}],
)
def test_a_rule_must_say_exactly_one_thing(rule):
    with pytest.raises(ValidationError):
        RetentionRule.model_validate(rule)


def test_a_schedule_that_forgets_a_record_class_is_refused(tmp_path: Path):
    document = yaml.safe_load(DEFAULT_SCHEDULE_FILE.read_text(encoding="utf-8"))
    del document["record_classes"]["missing_episode"]
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ValidationError, match="missing_episode"):
        load_schedule(path)


def test_a_partnership_changes_the_schedule_by_configuration_not_code(tmp_path: Path, monkeypatch):
    document = yaml.safe_load(DEFAULT_SCHEDULE_FILE.read_text(encoding="utf-8"))
    document["version"] = "partnership-2027"
    document["record_classes"]["no_further_action_referral"]["keep"] = {"years_after_last_activity": 6}
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.setenv("RETENTION_SCHEDULE_FILE", str(path))
    schedule = load_schedule(DatabaseSettings().retention_schedule_file)
    assert schedule.version == "partnership-2027"
    rule = schedule.rule(RecordClass.no_further_action_referral)
    assert rule.describe() == "6 years after the last activity"
