"""The risk and meetings services as a subject access package reads them: each one's
extract of a child (``getChildRiskSubjectAccessExtract``,
``getChildMeetingsSubjectAccessExtract``), asked with the reviewer's own bearer token and
request id, over the process's one HTTP client (opened in the app's lifespan).

Every failure is a problem, raised before anything is written, so a package is built
from all three services or not at all: 503 when a service cannot be reached or fails,
403 when it refuses the token, 502 when its answer is not what it documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from referral_api.settings import ReferralSettings
from safeguarding_kit.problems import Problem
from safeguarding_kit.request_context import current_request_id
from safeguarding_kit.settings import DatabaseSettings


class SourceUnavailable(Problem):
    """The risk or meetings service a subject access package is assembled from could not be
    reached, or failed; nothing was assembled or changed. Try again shortly."""

    status, slug, title = (
        503,
        "subject-access-source-unavailable",
        "Could not read a service the package needs",
    )


class SourceRefused(Problem):
    """The risk or meetings service refused the caller's token, so the package cannot be
    assembled with it; nothing was assembled or changed."""

    status, slug, title = (
        403,
        "subject-access-source-refused",
        "Not allowed to read a service the package needs",
    )


class SourceInvalid(Problem):
    """The risk or meetings service answered with something that cannot be read; nothing was
    assembled or changed. Try again later, or report it with the request id."""

    status, slug, title = (
        502,
        "subject-access-source-invalid",
        "A service the package needs was not understood",
    )


class Upstream(BaseModel):
    """The fields of another service's extract that the package reads (others ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Recipient(Upstream):
    agency: str = Field(max_length=63)
    agency_type: str = Field(max_length=20)
    roles: str = Field(max_length=255)
    action: str = Field(max_length=40)
    resource_type: str = Field(max_length=60)
    times: int = Field(ge=1)
    first_at: datetime
    last_at: datetime


class RiskAnswer(Upstream):
    indicator_code: str
    indicator_wording: str | None = None
    answer: str
    evidence: str | None = None
    source_agency: str | None = None
    contribution: int


class RiskAssessment(Upstream):
    id: uuid.UUID
    assessed_at: datetime
    assessed_agency: str
    model_name: str
    model_version: int
    age_at_assessment: int | None = None
    score: int
    age_points: int
    computed_level: str
    final_level: str
    hard_triggers: list[str] = Field(default_factory=list)
    overridden: bool
    override_reason: str | None = None
    override_at: datetime | None = None
    answers: list[RiskAnswer] = Field(default_factory=list)


class CurrentRisk(Upstream):
    current_level: str | None = None
    previous_level: str | None = None
    trend: str | None = None
    last_assessed_at: datetime | None = None
    level_changed_at: datetime | None = None
    next_review_due: datetime | None = None
    screening_opened_at: datetime | None = None
    initial_assessment_due: datetime | None = None


class LevelChange(Upstream):
    at: datetime
    level: str


class RiskExtract(Upstream):
    child_id: uuid.UUID
    current_risk: CurrentRisk | None = None
    assessments: list[RiskAssessment] = Field(default_factory=list)
    level_history: list[LevelChange] = Field(default_factory=list)
    access: list[Recipient] = Field(default_factory=list)


class Meeting(Upstream):
    meeting_type: str
    series_title: str
    starts_at: datetime
    status: str


class AgendaReason(Upstream):
    code: str
    detail: str


class MeetingDecision(Upstream):
    id: uuid.UUID
    text: str
    recorded_at: datetime


class AgendaItem(Upstream):
    id: uuid.UUID
    meeting: Meeting
    kind: str
    title: str
    reasons: list[AgendaReason] = Field(default_factory=list)
    minutes: str | None = None
    with_other_children: bool = False
    decisions: list[MeetingDecision] = Field(default_factory=list)


class MeetingAction(Upstream):
    id: uuid.UUID
    agenda_item_id: uuid.UUID | None = None
    description: str
    owner_agency: str
    owner_person_recorded: bool = False
    due_date: date
    status: str
    completed_at: datetime | None = None
    created_at: datetime


class MeetingsExtract(Upstream):
    child_id: uuid.UUID
    agenda_items: list[AgendaItem] = Field(default_factory=list)
    actions: list[MeetingAction] = Field(default_factory=list)
    access: list[Recipient] = Field(default_factory=list)


Extract = TypeVar("Extract", bound=Upstream)


class ChildExtracts(Protocol):
    def risk(self, child_id: uuid.UUID) -> RiskExtract:
        """Everything the risk service holds about the child."""
        ...

    def meetings(self, child_id: uuid.UUID) -> MeetingsExtract:
        """Everything the meetings service holds about the child."""
        ...


@dataclass(frozen=True)
class UpstreamServices:
    """Where the risk and meetings services are, and the process's client to them."""

    client: httpx.Client
    risk_url: str
    meetings_url: str

    def for_caller(self, bearer_token: str) -> HttpChildExtracts:
        """The extracts, asked with the caller's own token."""
        return HttpChildExtracts(self, bearer_token)


class HttpChildExtracts:
    """:class:`ChildExtracts` over the two services' extract endpoints."""

    def __init__(self, services: UpstreamServices, bearer_token: str) -> None:
        self._services = services
        self._headers = {
            "Authorization": f"Bearer {bearer_token}",
            "X-Request-ID": current_request_id() or "",
        }

    def risk(self, child_id: uuid.UUID) -> RiskExtract:
        url = f"{self._services.risk_url}/api/v1/risk/children/{child_id}/subject-access-extract"
        return self._read(url, RiskExtract, "risk service")

    def meetings(self, child_id: uuid.UUID) -> MeetingsExtract:
        url = f"{self._services.meetings_url}/api/v1/meetings/children/{child_id}/subject-access-extract"
        return self._read(url, MeetingsExtract, "meetings service")

    def _read(self, url: str, model: type[Extract], service: str) -> Extract:
        try:
            response = self._services.client.get(url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                f"The {service} could not be reached, so the package was not assembled; try again shortly."
            ) from exc
        if response.status_code in (401, 403):
            raise SourceRefused(
                f"The {service} refused your token, so the package cannot be assembled with it."
            )
        if response.status_code != 200:
            raise SourceUnavailable(
                f"The {service} answered {response.status_code}, so the package was not assembled; "
                "try again shortly."
            )
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise SourceInvalid(
                f"The {service} gave an answer the package cannot be assembled from; try again later or "
                "report it with the request id."
            ) from exc


@contextmanager
def upstream_services(app: FastAPI, settings: DatabaseSettings) -> Iterator[None]:
    """The app's lifespan resource: one HTTP client to the risk and meetings services for the
    process (``app.state.subject_access_upstream``), unless a test gave its own."""
    if getattr(app.state, "subject_access_upstream", None) is not None:
        yield
        return
    ours = settings if isinstance(settings, ReferralSettings) else ReferralSettings.model_construct()
    with httpx.Client(timeout=ours.upstream_timeout_seconds, follow_redirects=False) as client:
        app.state.subject_access_upstream = UpstreamServices(
            client,
            risk_url=str(ours.risk_api_url).rstrip("/"),
            meetings_url=str(ours.meetings_api_url).rstrip("/"),
        )
        try:
            yield
        finally:
            app.state.subject_access_upstream = None
