"""Gateway settings, all from the environment."""

from __future__ import annotations

import json
from typing import Annotated, Any

from limits import parse
from pydantic import Field, HttpUrl, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from api_gateway.routing import Upstream
from safeguarding_kit.settings import ProcessSettings

# Answers that take longer than most: building an agenda gathers pages from the risk and
# referral services; a model's impact analysis re-scores every child.
SLOW_ROUTES = {"/api/v1/meetings/occurrences": 30.0, "/api/v1/risk/models": 30.0}
# A request line (method, path and query, version) the HTTP server's limit on a request's
# head leaves room for, and what each header line adds to its name and value (": ", CRLF).
REQUEST_LINE_BYTES = 8192
HEADER_LINE_FRAMING_BYTES = 4


class GatewaySettings(ProcessSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "gateway"
    port: int = Field(8080, ge=1, le=65535)
    referral_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8101")
    risk_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8102")
    meetings_api_url: HttpUrl = HttpUrl("http://127.0.0.1:8103")
    # Several replicas of a service: comma-separated (or a JSON list), in place of its one URL.
    referral_api_urls: Annotated[list[HttpUrl], NoDecode] = Field(
        default_factory=list, description="Replicas of the referral service, instead of REFERRAL_API_URL."
    )
    risk_api_urls: Annotated[list[HttpUrl], NoDecode] = Field(
        default_factory=list, description="Replicas of the risk service, instead of RISK_API_URL."
    )
    meetings_api_urls: Annotated[list[HttpUrl], NoDecode] = Field(
        default_factory=list, description="Replicas of the meetings service, instead of MEETINGS_API_URL."
    )
    upstream_health_interval_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="How often each replica's /readyz is asked, for a service with several replicas.",
    )
    upstream_connect_timeout_seconds: float = Field(2.0, gt=0, le=30)
    upstream_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Read/write/pool timeout per upstream request."
    )
    upstream_route_timeouts: dict[str, float] = Field(
        default_factory=lambda: dict(SLOW_ROUTES),
        description="Read timeouts for path prefixes whose answers take longer than most "
        "(longest prefix wins; others use upstream_timeout_seconds), as JSON.",
    )
    upstream_max_connections: int = Field(200, ge=1, le=10_000)
    upstream_retries: int = Field(
        1, ge=0, le=3, description="Extra tries for idempotent requests that could not connect."
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, le=100 * 1_048_576)
    max_header_fields: int = Field(
        100,
        ge=20,
        le=1000,
        description="Header fields a request may carry; more is 431 before authentication.",
    )
    max_header_bytes: int = Field(
        16_384,
        ge=4096,
        le=1_048_576,
        description="Bytes of a request's header fields in all (names and values); more is 431 before "
        "authentication.",
    )
    max_header_field_bytes: int = Field(
        8192,
        ge=2048,
        le=1_048_576,
        description="Bytes of one header field (name and value); more is 431 before authentication.",
    )
    breaker_failure_threshold: int = Field(
        5, ge=1, le=100, description="Failed connections before failing fast."
    )
    breaker_reset_seconds: float = Field(
        5.0, gt=0, le=300, description="How long to fail fast before a trial."
    )
    docs_enabled: bool = Field(
        True, description="Serve the platform's combined OpenAPI at /openapi.json and its docs at /docs."
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list, description="Dashboard origins allowed by CORS."
    )
    workers: int = Field(
        1, ge=1, le=64, description="uvicorn worker processes; more than one needs Redis for rate limits."
    )
    rate_limit_reads: str = Field(
        "1200/minute", description="Per client (issuer, agency, sub): GET, HEAD and OPTIONS requests."
    )
    rate_limit_writes: str = Field(
        "120/minute", description="Per client (issuer, agency, sub): POST, PUT, PATCH and DELETE requests."
    )
    rate_limit_calendar_feeds: str = Field(
        "60/minute",
        description="Per calendar feed address: reads by calendar apps, which send no token "
        "(an app polls a feed a few times an hour).",
    )
    rate_limit_storage_url: str = Field(
        "async+memory://",
        description="Where counts are kept: this process's memory, or async+redis://host:port shared "
        "by every worker and replica.",
    )
    rate_limit_key_prefix: str = Field("gateway", description="Prefix of the rate-limit keys in Redis.")

    @field_validator("referral_api_urls", "risk_api_urls", "meetings_api_urls", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [url.strip() for url in text.split(",") if url.strip()]
        return value

    @field_validator("upstream_route_timeouts")
    @classmethod
    def _bounded_route_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        for prefix, seconds in value.items():
            if not prefix.startswith("/api/"):
                raise ValueError(f"{prefix!r}: a route timeout is for a path under /api/")
            if not 0 < seconds <= 120:
                raise ValueError(f"{prefix!r}: a route timeout is more than 0 and at most 120 seconds")
        return value

    @field_validator("rate_limit_reads", "rate_limit_writes", "rate_limit_calendar_feeds")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '120/minute' or '10 per second'") from exc
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _async_storage(cls, value: str) -> str:
        if not value.startswith(("async+memory://", "async+redis://", "async+rediss://")):
            raise ValueError("use async+memory:// or async+redis://host:port")
        return value

    @model_validator(mode="after")
    def _shared_limits_for_several_workers(self) -> GatewaySettings:
        if self.workers > 1 and self.rate_limit_storage_url.startswith("async+memory"):
            raise ValueError(
                "several gateway workers each counting in memory would multiply every client's limit: "
                "set RATE_LIMIT_STORAGE_URL=async+redis://host:port"
            )
        return self

    @model_validator(mode="after")
    def _one_field_fits_in_all(self) -> GatewaySettings:
        if self.max_header_field_bytes > self.max_header_bytes:
            raise ValueError("MAX_HEADER_FIELD_BYTES is more than MAX_HEADER_BYTES, which it must fit in")
        return self

    @property
    def max_request_head_bytes(self) -> int:
        """What the HTTP server reads of a request's head before it answers 431 without
        reading more: room for a request line of :data:`REQUEST_LINE_BYTES` and every header
        byte the limits allow, with each line's framing."""
        return (
            REQUEST_LINE_BYTES
            + self.max_header_bytes
            + HEADER_LINE_FRAMING_BYTES * self.max_header_fields
            + len(b"\r\n")
        )

    @model_validator(mode="after")
    def _one_way_to_name_each_service(self) -> GatewaySettings:
        for single, several in (
            ("referral_api_url", "referral_api_urls"),
            ("risk_api_url", "risk_api_urls"),
            ("meetings_api_url", "meetings_api_urls"),
        ):
            urls = [str(url) for url in getattr(self, several)]
            if urls and single in self.model_fields_set:
                raise ValueError(f"set {single.upper()} or {several.upper()}, not both")
            if len(set(urls)) != len(urls):
                raise ValueError(f"{several.upper()} names a replica twice")
        return self

    def replica_urls(self) -> dict[Upstream, list[str]]:
        """Each service's replicas: its list of URLs, or its one URL."""
        named = {
            Upstream.referral: (self.referral_api_urls, self.referral_api_url),
            Upstream.risk: (self.risk_api_urls, self.risk_api_url),
            Upstream.meetings: (self.meetings_api_urls, self.meetings_api_url),
        }
        return {
            upstream: [str(url).rstrip("/") for url in (several or [single])]
            for upstream, (several, single) in named.items()
        }
