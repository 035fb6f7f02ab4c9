"""Referral service settings, all from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, HttpUrl, model_validator
from pydantic_settings import SettingsConfigDict

from referral_api.disruption.vocabulary import InvalidVocabulary, load_vocabulary
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
    disruption_vocabulary_file: Path | None = Field(
        None,
        description="The partnership's kinds of disruption action (YAML: slug, label, person or place, "
        "outcomes, what counts as a charge or conviction, authority). Unset: the platform's default list "
        "(README, Disruption).",
    )

    @model_validator(mode="after")
    def _disruption_vocabulary_readable(self) -> ReferralSettings:
        try:
            load_vocabulary(self.disruption_vocabulary_file)
        except InvalidVocabulary as exc:
            raise ValueError(f"DISRUPTION_VOCABULARY_FILE: {exc}") from exc
        return self
