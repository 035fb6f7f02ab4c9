"""Settings every process reads from its environment (pydantic-settings).

Each process subclasses :class:`ProcessSettings`; every port, URL, secret and
database URL comes from environment variables named after the fields
(``DATABASE_URL``, ``TRUSTED_ISSUERS``...). One process, one environment: the
variables carry no per-service prefix.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeguarding_kit.audit.checkpoints import load_private_key
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import POOL_SIZE
from safeguarding_kit.events import Subscriber
from safeguarding_kit.partnership.agreement import Agreement, InvalidAgreement, load_agreement

DEV_ISSUER = "http://localhost/dev-issuer"
DEV_EVENTS_SECRET = "development-only-events-secret"  # noqa: S105 - refused in production
DEFAULT_AUDIENCE = "safeguarding-platform"
DEMO_AGREEMENT = Path("deploy/partnership/demo-agreement.yaml")

# Asymmetric algorithms only: a shared-secret (HS*) algorithm next to a public
# key is the classic key-confusion attack, and "none" is no signature at all.
AsymmetricAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


def _rs256_only() -> list[AsymmetricAlgorithm]:
    return ["RS256"]


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class IssuerConfig(BaseModel):
    """One identity provider the platform trusts, with its algorithms pinned."""

    issuer: str = Field(description="Exact `iss` value the provider puts in its tokens.")
    audience: str = Field(DEFAULT_AUDIENCE, description="`aud` the tokens must carry.")
    algorithms: list[AsymmetricAlgorithm] = Field(default_factory=_rs256_only, min_length=1)
    jwks_url: HttpUrl | None = None
    public_key_pem: str | None = None
    public_key_file: Path | None = None
    allowed_agency_types: list[AgencyType] | None = Field(
        None,
        description="Agency types this issuer may vouch for; None means any. A police IdP "
        "should not be able to mint a health practitioner.",
    )

    @model_validator(mode="after")
    def _exactly_one_key_source(self) -> IssuerConfig:
        sources = [s for s in (self.jwks_url, self.public_key_pem, self.public_key_file) if s]
        if len(sources) != 1:
            raise ValueError(
                f"issuer {self.issuer!r}: give exactly one of jwks_url, public_key_pem, public_key_file"
            )
        return self


class ProcessSettings(BaseSettings):
    """What every process needs; services and the gateway add their own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "safeguarding"
    environment: Environment = Environment.development
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    log_json: bool = True
    opentelemetry: bool = Field(
        False,
        description="Let FastAPI record OpenTelemetry spans, metrics and logs to the providers you "
        "configure (e.g. by running under opentelemetry-instrument). Off, the platform's own "
        "observability stays: JSON logs with request ids and Prometheus metrics; and no request "
        "asks whether a provider was configured since the last one.",
    )

    trusted_issuers: list[IssuerConfig] = Field(default_factory=list)
    dev_issuer_enabled: bool = Field(
        True,
        description="Trust the local development issuer whose key pair lives under DATA_DIR. "
        "Refused in production.",
    )
    partnership_agreement_file: Path = Field(
        DEMO_AGREEMENT,
        description="The partnership's information sharing agreement (YAML or JSON): which issuer "
        "vouches for which agencies and the capacities each agency holds. The default is the "
        "demonstration agreement, which production refuses (its issuers are not yours).",
    )
    jwt_leeway_seconds: int = Field(10, ge=0, le=30)
    jwks_cache_seconds: float = Field(300.0, gt=0, le=86400)
    jwt_cache_seconds: float = Field(
        30.0, ge=0, le=300, description="How long a verified token is remembered (0: verify every time)."
    )
    jwks_min_refetch_seconds: float = Field(5.0, ge=0, le=3600)
    jwks_fetch_timeout_seconds: float = Field(3.0, gt=0, le=30)

    _agreement: Agreement | None = PrivateAttr(None)

    @property
    def dev_issuer_dir(self) -> Path:
        return self.data_dir / "dev-issuer"

    @property
    def agreement(self) -> Agreement:
        """The partnership agreement, loaded and checked when the settings were made."""
        assert self._agreement is not None  # set by the validator below
        return self._agreement

    @model_validator(mode="after")
    def _production_is_locked_down(self) -> ProcessSettings:
        try:
            self._agreement = load_agreement(self.partnership_agreement_file)
        except InvalidAgreement as exc:
            raise ValueError(f"PARTNERSHIP_AGREEMENT_FILE: {exc}") from exc
        if self.environment is Environment.production:
            if self.dev_issuer_enabled:
                raise ValueError("DEV_ISSUER_ENABLED must be false in production")
            if not self.trusted_issuers:
                raise ValueError("TRUSTED_ISSUERS must name at least one issuer in production")
            problems = self._agreement.production_problems(i.issuer for i in self.trusted_issuers)
            if problems:
                raise ValueError(
                    "the partnership agreement is not fit for production: " + "; ".join(problems)
                )
        return self

    def issuers(self) -> list[IssuerConfig]:
        """The configured issuers, plus the development issuer when it is enabled."""
        issuers = list(self.trusted_issuers)
        if self.dev_issuer_enabled:
            issuers.append(
                IssuerConfig(
                    issuer=DEV_ISSUER,
                    algorithms=["RS256"],
                    public_key_file=self.dev_issuer_dir / "public.pem",
                )
            )
        return issuers


class DatabaseSettings(ProcessSettings):
    """A service that owns a database: SQLite under DATA_DIR unless DATABASE_URL says otherwise."""

    database_url: str = ""
    database_file: str = Field(
        "service.db", description="SQLite file name under DATA_DIR when DATABASE_URL is empty."
    )
    database_pool_size: int = Field(
        POOL_SIZE,
        ge=1,
        le=100,
        description=(
            "Database connections each worker process opens at most, as needed, and keeps, in "
            "each of its pools: one for work in worker threads and, on PostgreSQL, one for the "
            "work on the event loop (referral intake and its busiest reads)."
        ),
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="uvicorn worker processes, each with its own relay and sweeps; more than one "
        "needs PostgreSQL (SQLite is served by one process).",
    )
    stats_suppression_threshold: int = Field(5, ge=1, le=20, description="Counts up to this are shown as c.")
    events_signing_secret: str = Field(
        DEV_EVENTS_SECRET, min_length=16, description="HMAC secret signing events between services."
    )
    event_subscribers: list[Subscriber] = Field(default_factory=list)
    events_relay_enabled: bool = Field(
        True,
        description="Relay the outbox from a thread of each serve process. False where the relay runs "
        "as a process of its own (python -m <service> relay; PostgreSQL only).",
    )
    events_max_attempts: int = Field(8, ge=1, le=50, description="Tries before a delivery is dead.")
    events_backoff_base_seconds: float = Field(
        1.0, gt=0, le=600, description="First wait after a failed delivery; doubled each try, at most 5 min."
    )
    events_concurrent_sends: int = Field(
        8,
        ge=1,
        le=64,
        description="Requests the relay sends at once: a batch of a pass's events to "
        "each platform service, one event to each partner webhook (never two of one child's lane).",
    )
    webhook_private_addresses_allowed: bool = Field(
        False,
        description="Let partner webhooks point at loopback or private addresses (development and "
        "tests only; refused in production).",
    )
    audit_checkpoint_key_file: Path | None = Field(
        None,
        description="Ed25519 private key (unencrypted PEM) signing checkpoints of the audit chain head, "
        "held outside the database (a Secret). Unset: no checkpoints (README, Audit checkpoints).",
    )
    audit_checkpoint_file: Path | None = Field(
        None,
        description="The append-only JSON-lines file the signed checkpoints go to, somewhere the "
        "database's users cannot rewrite; its directory must exist. Set with AUDIT_CHECKPOINT_KEY_FILE.",
    )
    audit_checkpoint_interval_seconds: float = Field(
        300.0,
        ge=0,
        le=86400,
        description="How often the chain head is checkpointed when it has moved (0: never).",
    )

    retention_schedule_file: Path | None = Field(
        None,
        description="The partnership's retention schedule (YAML: record classes, their rules and "
        "authorities). Unset: the platform's default schedule (README, Retention schedule).",
    )
    disposal_interval_seconds: float = Field(
        86400.0,
        ge=0,
        le=7 * 86400,
        description="How often the service disposes of records past retention and not held (0: never; "
        "the dry run and the command line still work).",
    )

    @model_validator(mode="after")
    def _real_events_secret_in_production(self) -> DatabaseSettings:
        if self.environment is Environment.production and self.webhook_private_addresses_allowed:
            raise ValueError("WEBHOOK_PRIVATE_ADDRESSES_ALLOWED must be false in production")
        if self.environment is Environment.production and (
            self.events_signing_secret == DEV_EVENTS_SECRET or len(self.events_signing_secret) < 32
        ):
            raise ValueError(
                "EVENTS_SIGNING_SECRET must be a real secret of at least 32 characters in production"
            )
        return self

    @model_validator(mode="after")
    def _audit_checkpoints_configured_whole(self) -> DatabaseSettings:
        key, file = self.audit_checkpoint_key_file, self.audit_checkpoint_file
        if (key is None) != (file is None):
            raise ValueError(
                "AUDIT_CHECKPOINT_KEY_FILE and AUDIT_CHECKPOINT_FILE go together: give both (signed "
                "checkpoints of the audit chain) or neither (none)"
            )
        if key is not None and file is not None:
            try:
                load_private_key(key)
            except ValueError as exc:
                raise ValueError(f"AUDIT_CHECKPOINT_KEY_FILE: {exc}") from exc
            if not file.parent.is_dir():
                raise ValueError(f"AUDIT_CHECKPOINT_FILE: {file.parent} is not a directory")
        return self

    @property
    def audit_checkpoints_enabled(self) -> bool:
        """Signed checkpoints of the audit chain head are taken (key, file and an interval)."""
        return self.audit_checkpoint_key_file is not None and self.audit_checkpoint_interval_seconds > 0

    @model_validator(mode="after")
    def _one_process_on_sqlite(self) -> DatabaseSettings:
        if self.workers > 1 and self.resolved_database_url().startswith("sqlite"):
            raise ValueError(
                f"WORKERS={self.workers} on SQLite: a SQLite database is served by one process (it has no "
                "row locks, so several processes' outbox relays could send the same event twice and "
                "their writes would queue on one file lock); use WORKERS=1, or PostgreSQL "
                "(DATABASE_URL=postgresql://...) for several workers or replicas"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / self.database_file).resolve()}"
