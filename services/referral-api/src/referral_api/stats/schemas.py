"""Response bodies for statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Count = int | Literal["c"]


class StatCell(BaseModel):
    key: dict[str, str] = Field(description="The group's value for each dimension.")
    count: Count = Field(description="The count, or `c` when suppressed.")
    suppressed: Literal["primary", "secondary"] | None = Field(
        None,
        description="primary: a count from 1 to the threshold; secondary: hidden so a primary one cannot "
        "be worked out from the totals.",
    )


class ReferralFigures(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_by": ["quarter", "age_band"],
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

    group_by: list[str]
    received_from: datetime
    received_to: datetime
    suppression_threshold: int
    exact: bool = Field(description="True for analysts: no count is suppressed.")
    cells: list[StatCell]
    row_totals: list[StatCell]
    column_totals: list[StatCell]
    total: Count
    note: str
