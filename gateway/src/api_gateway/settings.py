"""Gateway settings, all from the environment."""

from __future__ import annotations

from pydantic import Field, HttpUrl
from pydantic_settings import SettingsConfigDict

from safeguarding_kit.settings import ProcessSettings


class GatewaySettings(ProcessSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "gateway"
    port: int = Field(8080, ge=1, le=65535)
    referral_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8101")
    risk_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8102")
    meetings_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8103")
    upstream_connect_timeout_seconds: float = Field(2.0, gt=0, le=30)
    upstream_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Read/write/pool timeout per upstream request."
    )
    upstream_max_connections: int = Field(200, ge=1, le=10_000)
    upstream_retries: int = Field(
        1, ge=0, le=3, description="Extra tries for idempotent requests that could not connect."
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, le=100 * 1_048_576)
    breaker_failure_threshold: int = Field(
        5, ge=1, le=100, description="Failed connections before failing fast."
    )
    breaker_reset_seconds: float = Field(
        5.0, gt=0, le=300, description="How long to fail fast before a trial."
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list, description="Dashboard origins allowed by CORS."
    )
