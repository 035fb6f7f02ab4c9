"""The retention schedule: record classes, how long each is kept, and on whose
authority. A partnership changes the file (``RETENTION_SCHEDULE_FILE``), not the code;
the platform's default (``default_schedule.yaml``) cites its sources."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Self

import yaml
from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

DEFAULT_SCHEDULE_FILE = Path(__file__).with_name("default_schedule.yaml")


class RecordClass(StrEnum):
    """The kinds of record the schedule gives a rule; the services know which is which."""

    exploitation_case_record = "exploitation_case_record"
    looked_after_case_record = "looked_after_case_record"
    no_further_action_referral = "no_further_action_referral"
    missing_episode = "missing_episode"
    third_party_information = "third_party_information"
    person_of_concern = "person_of_concern"
    place_of_concern = "place_of_concern"
    meeting_minutes = "meeting_minutes"
    audit_record = "audit_record"


class RetentionRule(BaseModel):
    """How long a record is kept: exactly one of the three."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    years_after_last_activity: int | None = Field(
        None, ge=0, le=150, description="Kept this many years after the last thing recorded about it."
    )
    until_birthday: int | None = Field(
        None, ge=0, le=150, description="Kept until the child's birthday of this age."
    )
    kept: bool = Field(False, description="Never disposed of by the platform.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [self.years_after_last_activity is not None, self.until_birthday is not None, self.kept]
        if sum(chosen) != 1:
            raise ValueError("a rule says exactly one of years_after_last_activity, until_birthday, kept")
        return self

    def describe(self) -> str:
        """The rule in words, as a disposal record keeps it."""
        if self.years_after_last_activity is not None:
            return f"{self.years_after_last_activity} years after the last activity"
        if self.until_birthday is not None:
            return f"until the {ordinal(self.until_birthday)} birthday"
        return "kept"


class RecordClassRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    keep: RetentionRule
    authority: str = Field(min_length=1, description="The statute, code or decision the rule comes from.")
    source: HttpUrl | None = None


class RetentionSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    record_classes: dict[RecordClass, RecordClassRule]

    @model_validator(mode="after")
    def _every_class_has_a_rule(self) -> Self:
        missing = sorted(set(RecordClass) - set(self.record_classes))
        if missing:
            raise ValueError(f"the schedule gives no rule for: {', '.join(missing)}")
        return self

    def rule(self, record_class: RecordClass) -> RetentionRule:
        return self.record_classes[record_class].keep


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def disposal_due(rule: RetentionRule, *, last_activity: date, born: date | None = None) -> date | None:
    """The first day the record may be disposed of under ``rule``: the day after its
    period ends; None for a record that is kept. A birthday rule without a date of birth
    falls back to nothing sooner than the record's last activity."""
    if rule.kept:
        return None
    if rule.years_after_last_activity is not None:
        return last_activity + relativedelta(years=rule.years_after_last_activity, days=1)
    assert rule.until_birthday is not None
    if born is None:
        return None
    # A child born on 29 February turns N on 28 February in a common year (relativedelta's reading).
    return born + relativedelta(years=rule.until_birthday)


def latest_due(dues: list[date | None]) -> date | None:
    """When a record held under several classes may go: once every class lets it (None
    if any keeps it, or there are none)."""
    if not dues or any(d is None for d in dues):
        return None
    return max(d for d in dues if d is not None)


def load_schedule(path: Path | None = None) -> RetentionSchedule:
    """The schedule in ``path`` (the platform's default when None), validated."""
    return _load(path or DEFAULT_SCHEDULE_FILE)


@cache
def _load(path: Path) -> RetentionSchedule:
    with path.open(encoding="utf-8") as handle:
        return RetentionSchedule.model_validate(yaml.safe_load(handle))
