"""Request and response bodies for risk models."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from risk_api.risk_models.models import ModelStatus


class RiskModelCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "South Yorkshire child exploitation screening",
                    "description": "Weighted indicators from the regional screening tool.",
                }
            ]
        },
    )

    name: str = Field(min_length=3, max_length=120)
    description: str = Field("", max_length=4000)


class RiskModelRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7f3c52-2f4e-4e0a-b3a1-5d6c7e8f9a10",
                    "name": "South Yorkshire child exploitation screening",
                    "version": 1,
                    "description": "Weighted indicators from the regional screening tool.",
                    "status": "draft",
                    "created_at": "2026-11-24T09:15:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    name: str
    version: int
    description: str
    status: ModelStatus
    created_at: datetime
