"""Response bodies for impact analysis."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from risk_api.vocabularies import RiskLevel
from safeguarding_kit.figures import Count, FigureTable

MOVEMENTS_EXAMPLE: dict[str, JsonValue] = {
    "dimensions": ["from_level", "to_level"],
    "suppression_threshold": 5,
    "exact": False,
    "cells": [
        {"key": {"from_level": "high", "to_level": "high"}, "count": 31, "suppressed": None},
        {"key": {"from_level": "high", "to_level": "low"}, "count": 0, "suppressed": None},
        {"key": {"from_level": "high", "to_level": "medium"}, "count": "c", "suppressed": "primary"},
        {"key": {"from_level": "low", "to_level": "high"}, "count": 0, "suppressed": None},
        {"key": {"from_level": "low", "to_level": "low"}, "count": 58, "suppressed": None},
        {"key": {"from_level": "low", "to_level": "medium"}, "count": 9, "suppressed": None},
        {"key": {"from_level": "medium", "to_level": "high"}, "count": 12, "suppressed": None},
        {"key": {"from_level": "medium", "to_level": "low"}, "count": "c", "suppressed": "secondary"},
        {"key": {"from_level": "medium", "to_level": "medium"}, "count": 80, "suppressed": None},
    ],
    "row_totals": [
        {"key": {"from_level": "high"}, "count": "c", "suppressed": "secondary"},
        {"key": {"from_level": "low"}, "count": 67, "suppressed": None},
        {"key": {"from_level": "medium"}, "count": "c", "suppressed": "secondary"},
    ],
    "column_totals": [
        {"key": {"to_level": "high"}, "count": 43, "suppressed": None},
        {"key": {"to_level": "low"}, "count": "c", "suppressed": "secondary"},
        {"key": {"to_level": "medium"}, "count": "c", "suppressed": "secondary"},
    ],
    "total": 213,
    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where they would let one be "
    "worked out from the totals (secondary suppression). From each child's current level to the level "
    "under this model.",
}
IMPACT_EXAMPLE: dict[str, JsonValue] = {
    "model_id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
    "exact": False,
    "children_assessed": 213,
    "children_changing": "c",
    "children_moving_down": "c",
    "children_moving_up": 21,
    "overridden_children": 7,
    "movements": MOVEMENTS_EXAMPLE,
}


class ImpactRead(BaseModel):
    """How many children a model version would move between levels: counts only, with
    small counts protected for callers without exact figures."""

    model_config = ConfigDict(json_schema_extra={"examples": [IMPACT_EXAMPLE]})

    model_id: uuid.UUID
    exact: bool = Field(
        description="True for analysts of an agency granted `exact_figures`: nothing is suppressed."
    )
    children_assessed: Count = Field(description="Children with a current assessment, re-scored.")
    children_changing: Count = Field(
        description="Children whose level would change; `c` when a count it adds up is suppressed."
    )
    children_moving_down: Count = Field(
        description="Children who would move to a lower level; `c` when a count it adds up is suppressed."
    )
    children_moving_up: Count = Field(
        description="Children who would move to a higher level; `c` when a count it adds up is suppressed."
    )
    overridden_children: Count = Field(
        description="Children whose current level is a manager's override: "
        "their level stays unless a manager revisits it."
    )
    movements: FigureTable = Field(
        description="From each child's current level (`from_level`) to the level under this model "
        "(`to_level`), with counts."
    )


class ChildMovingLevel(BaseModel):
    """One child whose level would change under a model version (an opaque id only)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "from_level": "high",
                    "to_level": "medium",
                    "overridden": False,
                }
            ]
        }
    )

    child_id: uuid.UUID
    from_level: RiskLevel = Field(description="The child's current level.")
    to_level: RiskLevel = Field(description="The level the model version would give.")
    overridden: bool = Field(description="The current level is a manager's override, which would stay.")
