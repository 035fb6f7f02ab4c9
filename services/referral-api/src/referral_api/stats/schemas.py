"""Response bodies for statistics."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from safeguarding_kit.figures import Count, FigureTable


class ReferralFigures(FigureTable):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dimensions": ["quarter", "age_band"],
                    "received_from": "2026-04-01T00:00:00Z",
                    "received_to": "2026-10-01T00:00:00Z",
                    "suppression_threshold": 5,
                    "exact": False,
                    "cells": [
                        {"key": {"quarter": "2026-Q2", "age_band": "14-16"}, "count": 41, "suppressed": None},
                        {
                            "key": {"quarter": "2026-Q2", "age_band": "10-13"},
                            "count": "c",
                            "suppressed": "primary",
                        },
                        {
                            "key": {"quarter": "2026-Q3", "age_band": "10-13"},
                            "count": "c",
                            "suppressed": "secondary",
                        },
                    ],
                    "row_totals": [{"key": {"quarter": "2026-Q2"}, "count": 44, "suppressed": None}],
                    "column_totals": [{"key": {"age_band": "14-16"}, "count": 90, "suppressed": None}],
                    "total": 131,
                    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where they "
                    "would let one be worked out from the totals.",
                }
            ]
        }
    )

    received_from: datetime
    received_to: datetime


class Share(BaseModel):
    on_time: Count = Field(description="How many met the standard (`c` when suppressed).")
    total: Count
    share: float | None = Field(description="on_time / total; null when suppressed or no cases.")


class FirstContact(BaseModel):
    referrals_with_contact: Count
    median_hours: float | None
    p90_hours: float | None


class Timeliness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received_from": "2025-04-01T00:00:00Z",
                    "received_to": "2026-04-01T00:00:00Z",
                    "first_contact": {"referrals_with_contact": 187, "median_hours": 30.5, "p90_hours": 96.0},
                    "decisions_within_one_working_day": {"on_time": 160, "total": 201, "share": 0.796},
                    "return_home_interviews_within_72_hours": {"on_time": 41, "total": 65, "share": 0.631},
                    "exact": False,
                    "suppression_threshold": 5,
                }
            ]
        }
    )

    received_from: datetime
    received_to: datetime
    first_contact: FirstContact
    decisions_within_one_working_day: Share = Field(
        description="Referrals received in the period and decided by their due time, of those "
        "decided or past due: one still undecided after its working day counts as late."
    )
    return_home_interviews_within_72_hours: Share = Field(
        description="Children found in the period whose interview was offered, done or declined "
        "within 72 hours."
    )
    exact: bool
    suppression_threshold: int
