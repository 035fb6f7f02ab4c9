"""Response bodies for statistics: every count a FigureCell, as in every figure the
platform publishes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from safeguarding_kit.figures import FigureCell, FigurePeriod, FigureTable

PERIOD_EXAMPLE: dict[str, JsonValue] = {
    "label": "2025-26",
    "from": "2025-03-31T23:00:00Z",
    "to": "2026-03-31T23:00:00Z",
    "as_of": "2026-03-31T23:00:00Z",
}


def _cell(key: dict[str, JsonValue], count: int | None, suppressed: str | None = None) -> JsonValue:
    return {
        "key": key,
        "count": count,
        "suppressed": suppressed,
        "display": "c" if count is None else str(count),
    }


class ReferralFigures(FigureTable):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dimensions": ["financial_quarter", "age_band"],
                    "period": PERIOD_EXAMPLE,
                    "suppression_threshold": 5,
                    "exact": False,
                    "cells": [
                        _cell({"financial_quarter": "2025-26-Q1", "age_band": "10-13"}, None, "primary"),
                        _cell({"financial_quarter": "2025-26-Q1", "age_band": "14-16"}, 41),
                        _cell({"financial_quarter": "2025-26-Q1", "age_band": "17-19"}, None, "secondary"),
                        _cell({"financial_quarter": "2025-26-Q1", "age_band": "20-21"}, 0),
                        _cell({"financial_quarter": "2025-26-Q1", "age_band": "other"}, 0),
                    ],
                    "row_totals": [_cell({"financial_quarter": "2025-26-Q1"}, 52)],
                    "column_totals": [
                        _cell({"age_band": "10-13"}, 19),
                        _cell({"age_band": "14-16"}, 150),
                        _cell({"age_band": "17-19"}, 38),
                        _cell({"age_band": "20-21"}, None, "primary"),
                        _cell({"age_band": "other"}, 0),
                    ],
                    "total": _cell({}, 210),
                    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where they would "
                    "let one be worked out from the totals (secondary suppression); every count shown is "
                    "perturbed by at most 2 by the cell key method, so totals need not add up exactly. ",
                }
            ]
        }
    )


class Share(BaseModel):
    on_time: FigureCell = Field(description="How many met the standard.")
    total: FigureCell = Field(description="How many the standard applied to.")
    share: float | None = Field(
        description="on_time / total, from the counts shown (exact ones for `exact_figures` analysts); "
        "null when either is suppressed or there are none."
    )


class FirstContact(BaseModel):
    referrals_with_contact: FigureCell
    median_hours: float | None = Field(
        description="Median hours from receipt to first contact (nearest rank); null when there are "
        "none, or for callers without exact figures when the count is suppressed (the median of so few "
        "is one child's own time)."
    )
    p90_hours: float | None = Field(description="90th percentile, as the median.")


class Timeliness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": PERIOD_EXAMPLE,
                    "events_until": "2026-11-01T00:00:00Z",
                    "first_contact": {
                        "referrals_with_contact": _cell({"measure": "referrals_with_contact"}, 187),
                        "median_hours": 30.5,
                        "p90_hours": 96.0,
                    },
                    "decisions_within_one_working_day": {
                        "on_time": _cell({"measure": "decisions_on_time"}, 160),
                        "total": _cell({"measure": "decisions_due"}, 201),
                        "share": 0.796,
                    },
                    "return_home_interviews_within_72_hours": {
                        "on_time": _cell({"measure": "interviews_on_time"}, None, "secondary"),
                        "total": _cell({"measure": "children_found"}, 65),
                        "share": None,
                    },
                    "migrated_referrals_excluded": _cell({"measure": "migrated_referrals_excluded"}, 34),
                    "exact": False,
                    "suppression_threshold": 5,
                    "note": "Counts from 1 to 5 are shown as c; ...",
                }
            ]
        }
    )

    period: FigurePeriod = Field(
        description="Referrals received and children found in [from, as_of) are counted."
    )
    events_until: datetime = Field(
        description="Decisions, first contacts and interviews recorded before this instant count: now "
        "for `exact_figures` analysts, otherwise the start of the current month (so the figures change "
        "once a month)."
    )
    first_contact: FirstContact
    decisions_within_one_working_day: Share = Field(
        description="Referrals received in the period and decided by their due time, of those "
        "decided or past due: one still undecided after its working day counts as late."
    )
    return_home_interviews_within_72_hours: Share = Field(
        description="Children found in the period whose interview was offered, done or declined "
        "within 72 hours."
    )
    migrated_referrals_excluded: FigureCell = Field(
        description="Referrals received in the period that were migrated from an earlier system: "
        "they count in the referral figures by their original dates but are left out of first "
        "contact and decision timeliness, having no live timestamps."
    )
    exact: bool
    suppression_threshold: int
    note: str


class WaitingTimeGroup(BaseModel):
    """The supports started with one provider (or all) and how long their children waited."""

    provider: str | None = Field(
        description="The agreement's service (its slug) or providing agency; null for all providers."
    )
    started: FigureCell = Field(description="How many supports started, protected as every count is.")
    median_days: int | None = Field(
        description="Median calendar days from request to start (nearest rank); null when none started or, "
        "without exact figures, when the rule in the operation's description hides it."
    )
    p90_days: int | None = Field(description="90th percentile (nearest rank), as the median.")


class SupportWaitingTimes(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": PERIOD_EXAMPLE,
                    "events_until": "2026-11-01T00:00:00Z",
                    "providers": [
                        {
                            "provider": "post-abuse-support",
                            "started": _cell({"provider": "post-abuse-support"}, 23),
                            "median_days": 21,
                            "p90_days": 42,
                        },
                        {
                            "provider": "community-youth-team",
                            "started": _cell({"provider": "community-youth-team"}, None, "primary"),
                            "median_days": None,
                            "p90_days": None,
                        },
                    ],
                    "all_providers": {
                        "provider": None,
                        "started": _cell({}, 61),
                        "median_days": 14,
                        "p90_days": 35,
                    },
                    "exact": False,
                    "suppression_threshold": 5,
                    "rounded_to_days": 7,
                    "note": "Counts from 1 to 5 are shown as c; ... A median is shown only where its count "
                    "is shown and more than 5 supports started, a 90th percentile only where at least 10 "
                    "did; both rounded to the nearest 7 days.",
                }
            ]
        }
    )

    period: FigurePeriod = Field(description="Supports started in [from, as_of) are counted.")
    events_until: datetime = Field(
        description="Starts recorded before this instant count: now for `exact_figures` analysts, "
        "otherwise the start of the current month."
    )
    providers: list[WaitingTimeGroup] = Field(
        description="Every service of the agreement, then every agency (a family such as `school-*` as "
        "one), then `other`; zeros included."
    )
    all_providers: WaitingTimeGroup
    exact: bool
    suppression_threshold: int
    rounded_to_days: int = Field(
        description="The waiting times shown are rounded to a multiple of this: 1 for exact figures, "
        "else 7 (whole weeks)."
    )
    note: str
