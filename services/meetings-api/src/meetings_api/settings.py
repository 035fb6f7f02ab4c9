"""Meetings service settings, all from the environment."""

from __future__ import annotations

from pydantic import Field, HttpUrl
from pydantic_settings import SettingsConfigDict

from safeguarding_kit.settings import DatabaseSettings


class MeetingsSettings(DatabaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "meetings-api"
    port: int = Field(8103, ge=1, le=65535)
    database_file: str = "meetings.db"
    # Agendas are built from the risk and referral services' APIs, with the caller's token.
    risk_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8102")
    referral_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8101")
    upstream_timeout_seconds: float = Field(5.0, gt=0, le=60)
    overdue_sweep_seconds: float = Field(
        300.0,
        ge=0,
        le=86400,
        description="How often overdue actions are looked for and announced (0: never).",
    )
    public_base_url: HttpUrl = Field(
        HttpUrl("http://127.0.0.1:8080"),
        description="The gateway's address as people's calendar apps reach it: calendar feed "
        "addresses are built on it.",
    )
    review_gap_weeks: int = Field(
        12, ge=1, le=52, description="Children not reviewed for this long go on the agenda."
    )
