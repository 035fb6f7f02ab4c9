"""What referral figures can be grouped by, as SQL expressions for SQLite and
PostgreSQL alike (counted in the database: no rows are loaded into Python), and every
category of each, so that a table lists them all, zeros included.

The quarter, financial quarter, month and age band at referral are facts fixed when the
referral is received, stored on it then (so figures group by plain columns).

A dimension is read from one source of counted referrals at a time (:class:`ReferralColumns`):
the live records, or the facts kept of referrals whose child's records were disposed of
(:mod:`referral_api.stats.sources` counts both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import String, case, cast, literal
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from referral_api.referrals.models import ConcernType
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.periods import Window, england_day, months_between, quarters_between


class GroupBy(StrEnum):
    quarter = "quarter"
    financial_quarter = "financial_quarter"
    month = "month"
    age_band = "age_band"
    gender = "gender"
    ethnicity = "ethnicity"
    looked_after = "looked_after"
    source_agency_type = "source_agency_type"
    concern_type = "concern_type"
    outcome = "outcome"
    signposted_to = "signposted_to"


CHILD_DIMENSIONS = frozenset({GroupBy.gender, GroupBy.ethnicity, GroupBy.looked_after})
AGE_BANDS = (("10-13", 10, 13), ("14-16", 14, 16), ("17-19", 17, 19), ("20-21", 20, 21))


class ReferralOutcome(StrEnum):
    """What became of a referral, as the figures count it."""

    allocated = "allocated"
    signposted = "signposted"
    no_further_action = "no_further_action"
    open = "open"


OUTCOMES = tuple(o.value for o in ReferralOutcome)
# signposted_to beside the agreement's services: not signposted, or signposted before the
# partnership kept a closed list (free text, which a figure never repeats).
NOT_SIGNPOSTED, UNLISTED_SERVICE = "none", "other"


def age_band(age: int) -> str:
    """The reporting age band of an age in whole years."""
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return "other"


def age_on(day: date, born: date) -> int:
    """Whole years from ``born`` to ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def reporting_day(received_at: datetime) -> date:
    """The date in England of an aware receipt time: a referral at 00:30 on 1 October
    (still 30 September in UTC while clocks are on summer time) is October's."""
    return england_day(received_at)


def reporting_periods(received_at: datetime) -> tuple[str, str]:
    """The quarter ("2026-Q2") and month ("2026-05") of a receipt time, by the date in England."""
    day = reporting_day(received_at)
    return f"{day.year}-Q{(day.month + 2) // 3}", f"{day.year}-{day.month:02d}"


def categories(group: GroupBy, window: Window, services: Sequence[str]) -> list[str]:
    """Every value ``group`` can take in ``window``, in reading order: the periods the
    window touches, or the whole closed vocabulary (``services``: the slugs of the
    agreement's services)."""
    first_day = window.first_day
    # The day after the window's last instant, so a window ending mid-day keeps that day.
    end_day = england_day(window.end - timedelta(microseconds=1)) + timedelta(days=1)
    if group is GroupBy.quarter:
        return quarters_between(first_day, end_day, financial=False)
    if group is GroupBy.financial_quarter:
        return quarters_between(first_day, end_day, financial=True)
    if group is GroupBy.month:
        return months_between(first_day, end_day)
    if group is GroupBy.age_band:
        return [label for label, _, _ in AGE_BANDS] + ["other"]
    if group is GroupBy.gender:
        return [g.value for g in Gender]
    if group is GroupBy.ethnicity:
        return [e.value for e in Ethnicity]
    if group is GroupBy.looked_after:
        return ["looked_after", "not_looked_after"]
    if group is GroupBy.source_agency_type:
        return [a.value for a in AgencyType]
    if group is GroupBy.concern_type:
        return [c.value for c in ConcernType]
    if group is GroupBy.outcome:
        return list(OUTCOMES)
    return [*services, UNLISTED_SERVICE, NOT_SIGNPOSTED]


Column = ColumnElement[Any] | InstrumentedAttribute[Any]
"""A column of a table, or an SQL expression over its columns."""


@dataclass(frozen=True, slots=True)
class ReferralColumns:
    """Where one source of counted referrals keeps each value a figure groups by."""

    received_quarter: Column
    received_financial_quarter: Column
    received_month: Column
    age_band_at_referral: Column
    gender: Column
    ethnicity: Column
    looked_after: Column
    agency_type: Column
    concern_type: Column
    signposted_to: Column
    outcome: Column


def referral_outcome(allocated_team: Column, signposted_to: Column, decided_at: Column) -> ColumnElement[str]:
    """What became of a referral, from what is recorded on it: a team allocated, a service
    signposted to, a decision without either (no further action), or none yet (open)."""
    return case(
        (allocated_team.is_not(None), literal(ReferralOutcome.allocated.value)),
        (signposted_to.is_not(None), literal(ReferralOutcome.signposted.value)),
        (decided_at.is_not(None), literal(ReferralOutcome.no_further_action.value)),
        else_=literal(ReferralOutcome.open.value),
    )


def expression(group: GroupBy, columns: ReferralColumns, services: Sequence[str] = ()) -> Column:
    """The SQL expression a dimension groups by, as text, over one source's ``columns``."""
    if group is GroupBy.quarter:
        return columns.received_quarter
    if group is GroupBy.financial_quarter:
        return columns.received_financial_quarter
    if group is GroupBy.month:
        return columns.received_month
    if group is GroupBy.age_band:
        return columns.age_band_at_referral
    if group is GroupBy.gender:
        return cast(columns.gender, String)
    if group is GroupBy.ethnicity:
        return cast(columns.ethnicity, String)
    if group is GroupBy.looked_after:
        return case(
            (columns.looked_after.is_(True), literal("looked_after")), else_=literal("not_looked_after")
        )
    if group is GroupBy.source_agency_type:
        return cast(columns.agency_type, String)
    if group is GroupBy.concern_type:
        return cast(columns.concern_type, String)
    if group is GroupBy.signposted_to:
        return case(
            (columns.signposted_to.is_(None), literal(NOT_SIGNPOSTED)),
            (columns.signposted_to.in_(list(services)), columns.signposted_to),
            else_=literal(UNLISTED_SERVICE),
        )
    return cast(columns.outcome, String)
