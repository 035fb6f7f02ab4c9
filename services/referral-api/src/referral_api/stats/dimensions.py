"""What referral figures can be grouped by, as SQL expressions for SQLite and
PostgreSQL alike (counted in the database: no rows are loaded into Python).

The quarter, month and age band at referral are facts fixed when the referral is
received, stored on it then (so figures group by plain columns)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, cast, literal
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from referral_api.children.models import Child
from referral_api.referrals.models import Referral, ReferralConcern


class GroupBy(StrEnum):
    quarter = "quarter"
    month = "month"
    age_band = "age_band"
    gender = "gender"
    ethnicity = "ethnicity"
    looked_after = "looked_after"
    source_agency_type = "source_agency_type"
    concern_type = "concern_type"
    outcome = "outcome"


CHILD_DIMENSIONS = frozenset({GroupBy.gender, GroupBy.ethnicity, GroupBy.looked_after})
AGE_BANDS = (("10-13", 10, 13), ("14-16", 14, 16), ("17-19", 17, 19), ("20-21", 20, 21))


def age_band(age: int) -> str:
    """The reporting age band of an age in whole years."""
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return "other"


def age_on(day: date, born: date) -> int:
    """Whole years from ``born`` to ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# The partnership counts by the date in England: a referral at 00:30 on 1 October (still
# 30 September in UTC while clocks are on summer time) is October's.
REPORTING_ZONE = ZoneInfo("Europe/London")


def reporting_day(received_at: datetime) -> date:
    """The date in England of an aware receipt time."""
    return received_at.astimezone(REPORTING_ZONE).date()


def reporting_periods(received_at: datetime) -> tuple[str, str]:
    """The quarter ("2026-Q2") and month ("2026-05") of a receipt time, by the date in England."""
    day = reporting_day(received_at)
    return f"{day.year}-Q{(day.month + 2) // 3}", f"{day.year}-{day.month:02d}"


def expression(group: GroupBy) -> ColumnElement[Any] | InstrumentedAttribute[str]:
    """The SQL expression a dimension groups by, as text."""
    if group is GroupBy.quarter:
        return Referral.received_quarter
    if group is GroupBy.month:
        return Referral.received_month
    if group is GroupBy.age_band:
        return Referral.age_band_at_referral
    if group is GroupBy.gender:
        return cast(Child.gender, String)
    if group is GroupBy.ethnicity:
        return cast(Child.ethnicity, String)
    if group is GroupBy.looked_after:
        return case(
            (Child.looked_after.is_(True), literal("looked_after")), else_=literal("not_looked_after")
        )
    if group is GroupBy.source_agency_type:
        return cast(Referral.agency_type, String)
    if group is GroupBy.concern_type:
        return cast(ReferralConcern.concern_type, String)
    return case(
        (Referral.allocated_team.is_not(None), literal("allocated")),
        (Referral.signposted_to.is_not(None), literal("signposted")),
        (Referral.decided_at.is_not(None), literal("no_further_action")),
        else_=literal("open"),
    )
