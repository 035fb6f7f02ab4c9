"""Where agenda items come from: the risk and referral services, asked over HTTP with
the caller's own token (so an agenda shows only what its builder may see)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

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

    def _all(self, url: str, params: dict[str, str], what: str) -> list[dict[str, Any]]:
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
            page = response.json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return items

    def risk(self, **filters: str) -> list[dict[str, Any]]:
        return self._all(f"{self._risk}/api/v1/risk/children", filters, "risk service")

    def referrals(self, **filters: str) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/referrals", filters, "referral service")

    def persons_of_concern(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/persons-of-concern", {}, "referral service")

    def places_of_concern(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/places-of-concern", {}, "referral service")

    def missing_episodes(self) -> list[dict[str, Any]]:
        return self._all(f"{self._referral}/api/v1/missing-episodes", {}, "referral service")


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
