"""Response bodies for a model's publication request."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from risk_api.impact.schemas import IMPACT_EXAMPLE, ImpactRead


class HardTriggerChange(StrEnum):
    indicator_removed = "indicator_removed"
    no_longer_hard_trigger = "no_longer_hard_trigger"


class RemovedHardTrigger(BaseModel):
    """A hard trigger of the published model that the draft drops."""

    code: str
    wording: str = Field(description="The wording in the published model.")
    change: HardTriggerChange


class ModelVersionRef(BaseModel):
    model_id: uuid.UUID
    name: str
    version: int


class PublicationRequestRead(BaseModel):
    """A draft waiting for a second governing admin's approval, and what publishing it
    would change (as computed when it was asked for)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
                    "name": "Sheffield CE screening",
                    "version": 2,
                    "requested_by": "a.khan@sheffield.gov.example",
                    "requested_at": "2026-11-29T10:05:00Z",
                    "compared_with": {
                        "model_id": "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
                        "name": "Sheffield CE screening",
                        "version": 1,
                    },
                    "removed_hard_triggers": [
                        {
                            "code": "hotel_with_adults",
                            "wording": "Taken to or found in hotels or B&Bs with adults",
                            "change": "no_longer_hard_trigger",
                        }
                    ],
                    "lowers_some_children": True,
                    "warnings": [
                        "'hotel_with_adults' (Taken to or found in hotels or B&Bs with adults) would no "
                        "longer be a hard trigger: a child with it present would no longer be high "
                        "whatever the total.",
                        "Children would move to a lower level (children per movement): high->medium c, "
                        "medium->low c.",
                    ],
                    "impact": IMPACT_EXAMPLE,
                    "etag_version": 4,
                }
            ]
        }
    )

    model_id: uuid.UUID
    name: str
    version: int
    requested_by: str = Field(description="The governing admin who asked for publication.")
    requested_at: datetime
    compared_with: ModelVersionRef | None = Field(
        description="The published version this draft would replace (none if nothing is published)."
    )
    removed_hard_triggers: list[RemovedHardTrigger] = Field(
        description="Hard triggers of the published version the draft removes or no longer treats as one."
    )
    lowers_some_children: bool = Field(
        description="True when at least one child would move to a lower level."
    )
    warnings: list[str] = Field(description="What the approver must weigh, in words.")
    impact: ImpactRead = Field(
        description="Children per movement when it was asked for (exact only for `exact_figures` analysts)."
    )
    etag_version: int = Field(
        description="The model's ETag: approve with it in If-Match (a draft changed since needs a new "
        "request)."
    )
