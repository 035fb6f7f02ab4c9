"""Risk service settings, all from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from safeguarding_kit.settings import DatabaseSettings


class RiskSettings(DatabaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "risk-api"
    port: int = Field(8102, ge=1, le=65535)
    database_file: str = "risk.db"
    # Reviews fall due sooner for higher risk; partnerships set their own cadence.
    review_days_high: int = Field(28, ge=1, le=365)
    review_days_medium: int = Field(56, ge=1, le=365)
    review_days_low: int = Field(91, ge=1, le=730)
    initial_assessment_working_days: int = Field(10, ge=1, le=60)
