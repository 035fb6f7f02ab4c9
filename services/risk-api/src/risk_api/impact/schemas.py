"""Response bodies for impact analysis."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from risk_api.vocabularies import RiskLevel


class Movement(BaseModel):
    from_level: RiskLevel
    to_level: RiskLevel
    children: int


class LevelChange(BaseModel):
    child_id: uuid.UUID
    from_level: RiskLevel
    to_level: RiskLevel


class ImpactRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
                    "children_assessed": 213,
                    "children_changing": 19,
                    "overridden_children": 7,
                    "movements": [
                        {"from_level": "medium", "to_level": "high", "children": 12},
                        {"from_level": "medium", "to_level": "medium", "children": 80},
                    ],
                    "changes": [
                        {
                            "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                            "from_level": "medium",
                            "to_level": "high",
                        }
                    ],
                    "changes_truncated": False,
                }
            ]
        }
    )

    model_id: uuid.UUID
    children_assessed: int = Field(description="Children with a current assessment, re-scored.")
    children_changing: int
    overridden_children: int = Field(
        description="Children whose current level is a manager's override: "
        "their level stays unless a manager revisits it."
    )
    movements: list[Movement] = Field(
        description="From current level to the level under this model, with counts."
    )
    changes: list[LevelChange]
    changes_truncated: bool
