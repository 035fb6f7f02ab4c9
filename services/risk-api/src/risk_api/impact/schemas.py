"""Response bodies for impact analysis."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from risk_api.vocabularies import RiskLevel
from safeguarding_kit.figures import FigureCell, FigureTable


def _cell(key: dict[str, str], count: int | None, suppressed: str | None = None) -> dict[str, JsonValue]:
    return {
        "key": dict(key),
        "count": count,
        "suppressed": suppressed,
        "display": "c" if count is None else str(count),
    }


_MOVEMENT_CELLS: list[tuple[str, str, int | None, str | None]] = [
    ("low", "low", 58, None),
    ("low", "medium", 9, None),
    ("low", "high", 0, None),
    ("medium", "low", None, "secondary"),
    ("medium", "medium", 80, None),
    ("medium", "high", 12, None),
    ("high", "low", 0, None),
    ("high", "medium", None, "primary"),
    ("high", "high", 31, None),
]
MOVEMENTS_EXAMPLE: dict[str, JsonValue] = {
    "dimensions": ["from_level", "to_level"],
    "period": None,
    "suppression_threshold": 5,
    "exact": False,
    "cells": [
        _cell({"from_level": a, "to_level": b}, n, suppressed) for a, b, n, suppressed in _MOVEMENT_CELLS
    ],
    "row_totals": [
        _cell({"from_level": "low"}, 67),
        _cell({"from_level": "medium"}, None, "secondary"),
        _cell({"from_level": "high"}, None, "secondary"),
    ],
    "column_totals": [
        _cell({"to_level": "low"}, None, "secondary"),
        _cell({"to_level": "medium"}, None, "secondary"),
        _cell({"to_level": "high"}, 43),
    ],
    "total": _cell({}, 213),
    "note": "Counts from 1 to 5 are shown as c; further counts are hidden where they would let one be "
    "worked out from the totals (secondary suppression); every count shown is perturbed by at most 2 by "
    "the cell key method, so totals need not add up exactly. From each child's current level to the "
    "level under this model.",
}
IMPACT_EXAMPLE: dict[str, JsonValue] = {
    "model_id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
    "exact": False,
    "children_assessed": _cell({}, 213),
    "children_changing": _cell({"movement": "changing"}, None, "secondary"),
    "children_moving_down": _cell({"movement": "down"}, None, "secondary"),
    "children_moving_up": _cell({"movement": "up"}, 21),
    "overridden_children": _cell({"current_level_source": "overridden"}, 7),
    "movements": MOVEMENTS_EXAMPLE,
}

PROTECTED = (
    " Exact for analysts of an agency granted `exact_figures`; for everyone else a count from 1 to "
    "the threshold is `c` (primary), a sum holding a hidden cell is `c` (secondary), and every count "
    "shown is perturbed by the cell key method."
)


class ImpactRead(BaseModel):
    """How many children a model version would move between levels: counts only, each
    a figure cell, protected for callers without exact figures."""

    model_config = ConfigDict(json_schema_extra={"examples": [IMPACT_EXAMPLE]})

    model_id: uuid.UUID
    exact: bool = Field(
        description="True for analysts of an agency granted `exact_figures`: nothing is suppressed or "
        "perturbed."
    )
    children_assessed: FigureCell = Field(
        description="Children with a current assessment, re-scored (the movements table's total)."
    )
    children_changing: FigureCell = Field(description="Children whose level would change." + PROTECTED)
    children_moving_down: FigureCell = Field(
        description="Children who would move to a lower level." + PROTECTED
    )
    children_moving_up: FigureCell = Field(
        description="Children who would move to a higher level." + PROTECTED
    )
    overridden_children: FigureCell = Field(
        description="Children whose current level is a manager's override: "
        "their level stays unless a manager revisits it." + PROTECTED
    )
    movements: FigureTable = Field(
        description="From each child's current level (`from_level`) to the level under this model "
        "(`to_level`): every pair of levels, zeros included."
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
