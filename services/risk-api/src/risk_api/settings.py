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
