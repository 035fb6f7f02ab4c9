"""Referral service settings, all from the environment."""

from __future__ import annotations

from pydantic import Field, HttpUrl
from pydantic_settings import SettingsConfigDict

from safeguarding_kit.settings import DatabaseSettings

DEFAULT_BREAK_GLASS_HOURS = 24


class ReferralSettings(DatabaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "referral-api"
    port: int = Field(8101, ge=1, le=65535)
    database_file: str = "referral.db"
    break_glass_hours: int = Field(
        DEFAULT_BREAK_GLASS_HOURS,
        ge=1,
        le=72,
        description="How long a break-glass grant opens a child's record (BREAK_GLASS_HOURS).",
    )
    # Subject access packages are assembled from the risk and meetings services' extracts of
    # the child, asked with the reviewer's own token.
    risk_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8102")
    meetings_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8103")
    upstream_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long a call to the risk or meetings service may take."
    )
