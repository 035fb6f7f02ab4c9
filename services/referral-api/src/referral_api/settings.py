"""Referral service settings, all from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from safeguarding_kit.settings import DatabaseSettings


class ReferralSettings(DatabaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "referral-api"
    port: int = Field(8101, ge=1, le=65535)
    database_file: str = "referral.db"
