"""Where agenda items come from: the risk and referral services, asked over HTTP with
the caller's own token (so an agenda shows only what its builder may see).

Their answers are input like any other: each page and item is checked for the fields
the agenda uses before anything is built from it, so an answer that is not what the
service documents is a 502 problem (nothing written), never a 500."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from safeguarding_kit.problems import Problem
from safeguarding_kit.request_context import current_request_id

EXPLOITATION_CONCERNS = ("sexual_exploitation", "criminal_exploitation", "county_lines", "trafficking")
PAGE_LIMIT = 100
REPEAT_MISSING_WINDOW = timedelta(days=90)
MAX_PAGES = 20


class SourceUnavailable(Problem):
    status, slug, title = 503, "agenda-source-unavailable", "Could not read what the agenda is built from"


class SourceRefused(Problem):
    status, slug, title = 403, "agenda-source-refused", "Not allowed to read what the agenda is built from"


class SourceInvalid(Problem):
    status, slug, title = 502, "agenda-source-invalid", "What the agenda is built from was not understood"


class _Answer(BaseModel):
    """The fields of a service's list item that the agenda uses (others are ignored)."""

    model_config = ConfigDict(extra="ignore")


class RiskItem(_Answer):
    child_id: uuid.UUID
    current_level: Literal["low", "medium", "high"] | None = None
    previous_level: Literal["low", "medium", "high"] | None = None


class ReferralItem(_Answer):
    id: uuid.UUID
    child_id: uuid.UUID
    previous_referrals: int = Field(0, ge=0)


class EpisodeItem(_Answer):
    child_id: uuid.UUID
    reported_missing_at: AwareDatetime


class PersonItem(_Answer):
    id: uuid.UUID
    name: str | None = Field(None, max_length=200)
    alias: str | None = Field(None, max_length=200)
    child_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class PlaceItem(_Answer):
    id: uuid.UUID
    name: str = Field(max_length=200)
    place_type: str = Field(max_length=50)
    ward_code: str | None = Field(None, max_length=20)
    child_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class _Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(None, max_length=512)


@dataclass(frozen=True)
class ChildSignal:
    """A child (opaque id) and why they belong on the agenda."""

    child_id: uuid.UUID
    code: str
    detail: str


class CaseSources(Protocol):
    def risk(self, **filters: str) -> list[dict[str, Any]]: ...

    def referrals(self, **filters: str) -> list[dict[str, Any]]: ...

    def persons_of_concern(self) -> list[dict[str, Any]]: ...

    def missing_episodes(self) -> list[dict[str, Any]]: ...

    def places_of_concern(self) -> list[dict[str, Any]]: ...


class HttpCaseSources:
    """The risk and referral services' list endpoints, page by page."""

    def __init__(self, client: httpx.Client, *, risk_url: str, referral_url: str, bearer_token: str) -> None:
        self._client = client
        self._risk = risk_url.rstrip("/")
        self._referral = referral_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {bearer_token}",
            "X-Request-ID": current_request_id() or "",
        }

    def _all(self, url: str, params: dict[str, str], what: str, item: type[_Answer]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE_LIMIT), **({"cursor": cursor} if cursor else {})}
            try:
                response = self._client.get(url, params=query, headers=self._headers)
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"The {what} could not be reached; try again shortly.") from exc
            if response.status_code in (401, 403):
                raise SourceRefused(
                    f"Your token may not read the {what}, so this agenda cannot be built with it."
                )
            if response.status_code != 200:
                raise SourceUnavailable(f"The {what} answered {response.status_code}; try again shortly.")
            try:
                page = _Page.model_validate_json(response.content)
                items += [item.model_validate(i).model_dump(mode="json") for i in page.items]
            except ValidationError as exc:
                raise SourceInvalid(
                    f"The {what} gave an answer this agenda cannot be built from; try again later "
                    "or report it with the request id."
                ) from exc
            cursor = page.next_cursor
            if not cursor:
                break
        return items

    def risk(self, **filters: str) -> list[dict[str, Any]]:
        return self._all(f"{self._risk}/api/v1/risk/children", filters, "risk service", RiskItem)

    def referrals(self, **filters: str) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/referrals", filters, "referral service", ReferralItem)

    def persons_of_concern(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/persons-of-concern", {}, "referral service", PersonItem)

    def places_of_concern(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/places-of-concern", {}, "referral service", PlaceItem)

    def missing_episodes(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/missing-episodes", {}, "referral service", EpisodeItem)


def child_signals(
    sources: CaseSources, *, since: datetime, meeting_at: datetime, review_gap_start: datetime
) -> list[ChildSignal]:
    """Every reason a child should be discussed, from the services' data."""
    signals: list[ChildSignal] = []
    for risk in sources.risk(level="high", level_changed_since=since.isoformat()):
        signals.append(
            ChildSignal(uuid.UUID(risk["child_id"]), "became_high", "Risk became high since the last meeting")
        )
    for risk in sources.risk(trend="rising", level_changed_since=since.isoformat()):
        signals.append(
            ChildSignal(
                uuid.UUID(risk["child_id"]),
                "risk_rose",
                f"Risk rose from {risk['previous_level']} to {risk['current_level']}",
            )
        )
    for risk in sources.risk(review_due_before=meeting_at.isoformat()):
        signals.append(
            ChildSignal(uuid.UUID(risk["child_id"]), "review_due", "Risk review due before this meeting")
        )
    for risk in sources.risk(assessed_before=review_gap_start.isoformat()):
        if risk["current_level"] in ("medium", "high"):
            signals.append(
                ChildSignal(uuid.UUID(risk["child_id"]), "not_reviewed", "Not reviewed for 12 weeks or more")
            )
    seen_referrals: set[str] = set()
    for concern in EXPLOITATION_CONCERNS:
        for referral in sources.referrals(concern_type=concern, received_from=since.isoformat()):
            if referral["id"] in seen_referrals:
                continue
            seen_referrals.add(referral["id"])
            detail = "New referral with exploitation concerns"
            if referral.get("previous_referrals", 0) >= 1:
                detail += f" (repeat referral: {referral['previous_referrals'] + 1} in all)"
            signals.append(ChildSignal(uuid.UUID(referral["child_id"]), "new_referral", detail))
    recent = meeting_at - REPEAT_MISSING_WINDOW
    episodes = Counter(
        e["child_id"]
        for e in sources.missing_episodes()
        if datetime.fromisoformat(e["reported_missing_at"]) >= recent
    )
    for child_id, count in sorted(episodes.items()):
        if count >= 2:
            signals.append(
                ChildSignal(
                    uuid.UUID(child_id),
                    "repeat_missing",
                    f"Missing {count} times in the last {REPEAT_MISSING_WINDOW.days} days",
                )
            )
    return signals
