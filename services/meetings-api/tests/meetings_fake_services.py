"""The risk and referral services as the meetings service reads them for its agendas,
faked: each answers the list endpoints it documents (their filters, newest first, cursor
pages, 401 without a bearer token) from records a test states, over an httpx transport the
meetings app uses instead of the network.

The meetings service's tests import nothing of the other services: these fakes stand in for
them at their HTTP boundary, and the end-to-end suites under tests/ build agendas from the
real processes. A fake answers 422 for a query parameter its service does not document, so
a filter the agenda's clients misspell fails here rather than being silently ignored."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

RISK_URL = "http://risk.test"
REFERRAL_URL = "http://referral.test"
LEVELS = ("low", "medium", "high")
# The risk service's default review intervals (RiskSettings.review_days_*), in days.
REVIEW_DAYS = {"high": 28, "medium": 56, "low": 91}


def _now() -> datetime:
    return datetime.now(UTC)


def _problem(status: int, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": "Refused by the fake", "status": status, "detail": detail},
        headers={"content-type": "application/problem+json"},
    )


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{value!r} has no offset"
    return parsed


@dataclass(frozen=True)
class Listing:
    """One list endpoint: its records (newest first) and its filters (query parameter ->
    whether a record matches its value)."""

    records: Callable[[], Sequence[dict[str, Any]]]
    filters: dict[str, Callable[[dict[str, Any], str], bool]] = field(default_factory=dict)

    def answer(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        unknown = set(params) - {"limit", "cursor", *self.filters}
        if unknown:
            return _problem(422, f"Unknown query parameters: {sorted(unknown)}")
        asked = {name: value for name, value in params.items() if name in self.filters}
        matching = [r for r in self.records() if all(self.filters[n](r, v) for n, v in asked.items())]
        start = int(params.get("cursor", "0"))
        limit = int(params.get("limit", "25"))
        if not 1 <= limit <= 100:
            return _problem(422, "limit must be 1-100")
        page = matching[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(matching) else None
        return httpx.Response(200, json={"items": page, "next_cursor": next_cursor})


def _trend(change: int) -> str:
    return "rising" if change > 0 else "falling" if change < 0 else "steady"


class FakeRiskService:
    """``GET /api/v1/risk/children``: each child's current risk, most recently changed first."""

    def __init__(self) -> None:
        self._children: dict[str, dict[str, Any]] = {}

    def assessed(
        self,
        child_id: str,
        level: str,
        *,
        at: datetime | None = None,
        review_due: datetime | None = None,
    ) -> dict[str, Any]:
        """The child assessed at ``level`` (now unless ``at``), as the risk service records
        it: the previous level, trend, when the level changed and when review is due."""
        at = at or _now()
        current = self._children.get(child_id)
        previous = current["current_level"] if current else None
        trend = "first" if previous is None else _trend(LEVELS.index(level) - LEVELS.index(previous))
        changed_at = current["level_changed_at"] if current and previous == level else at.isoformat()
        record = {
            "child_id": child_id,
            "current_level": level,
            "previous_level": previous,
            "trend": trend,
            "assessments_count": (current["assessments_count"] if current else 0) + 1,
            "last_assessed_at": at.isoformat(),
            "level_changed_at": changed_at,
            "next_review_due": (review_due or at + timedelta(days=REVIEW_DAYS[level])).isoformat(),
            "updated_at": at.isoformat(),
        }
        self._children[child_id] = record
        return record

    def listings(self) -> dict[str, Listing]:
        at = _instant
        return {
            "/api/v1/risk/children": Listing(
                lambda: sorted(self._children.values(), key=lambda r: r["updated_at"], reverse=True),
                {
                    "level": lambda r, v: r["current_level"] == v,
                    "trend": lambda r, v: r["trend"] == v,
                    "level_changed_since": lambda r, v: at(r["level_changed_at"]) >= at(v),
                    "review_due_before": lambda r, v: at(r["next_review_due"]) < at(v),
                    "assessed_before": lambda r, v: at(r["last_assessed_at"]) < at(v),
                },
            )
        }


class FakeReferralService:
    """The referral service's lists the agendas read: referrals, missing episodes, and
    persons and places of concern with their linked children (ids only), newest first."""

    def __init__(self) -> None:
        self._referrals: list[dict[str, Any]] = []
        self._episodes: list[dict[str, Any]] = []
        self._persons: list[dict[str, Any]] = []
        self._places: list[dict[str, Any]] = []

    def referral(
        self,
        child_id: str | None = None,
        concern: str = "criminal_exploitation",
        *,
        received_at: datetime | None = None,
        summary: str = "Seen with older males after school.",
    ) -> dict[str, Any]:
        """A referral about ``child_id`` (a new child unless given), received now unless
        ``received_at``, counting the child's earlier referrals as the referral service does."""
        child_id = child_id or str(uuid.uuid4())
        received_at = received_at or _now()
        record = {
            "id": str(uuid.uuid4()),
            "child_id": child_id,
            "agency": "sheffield-schools",
            "agency_type": "education",
            "referrer": {"name": "Sam Teacher", "role": "DSL"},
            "concern_types": [concern],
            "summary": summary,
            "status": "received",
            "received_at": received_at.isoformat(),
            "previous_referrals": sum(1 for r in self._referrals if r["child_id"] == child_id),
        }
        self._referrals.append(record)
        return record

    def missing(self, child_id: str, reported_missing_at: datetime) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "child_id": child_id,
            "reported_by_agency": "sheffield-social-care",
            "reported_missing_at": reported_missing_at.isoformat(),
        }
        self._episodes.append(record)
        return record

    def person_of_concern(self, alias: str, child_ids: Iterable[str]) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "name": None,
            "alias": alias,
            "recorded_by_agency": "south-yorkshire-police",
            "child_ids": list(child_ids),
        }
        self._persons.append(record)
        return record

    def place_of_concern(
        self, name: str, place_type: str, ward_code: str | None, child_ids: Iterable[str]
    ) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "place_type": place_type,
            "name": name,
            "ward_code": ward_code,
            "recorded_by_agency": "south-yorkshire-police",
            "child_ids": list(child_ids),
        }
        self._places.append(record)
        return record

    def listings(self) -> dict[str, Listing]:
        at = _instant
        return {
            "/api/v1/referrals": Listing(
                lambda: sorted(self._referrals, key=lambda r: r["received_at"], reverse=True),
                {
                    "concern_type": lambda r, v: v in r["concern_types"],
                    "received_from": lambda r, v: at(r["received_at"]) >= at(v),
                    "received_to": lambda r, v: at(r["received_at"]) < at(v),
                },
            ),
            "/api/v1/missing-episodes": Listing(
                lambda: sorted(self._episodes, key=lambda e: e["reported_missing_at"], reverse=True)
            ),
            "/api/v1/persons-of-concern": Listing(lambda: list(reversed(self._persons))),
            "/api/v1/places-of-concern": Listing(lambda: list(reversed(self._places))),
        }


class FakeServices:
    """Both fakes behind one transport, and every request the meetings service sent them."""

    def __init__(self) -> None:
        self.risk = FakeRiskService()
        self.referrals = FakeReferralService()
        self.requests: list[httpx.Request] = []

    def client(self) -> httpx.Client:
        """An httpx client for the meetings app's ``state.services_client``."""
        return httpx.Client(transport=httpx.MockTransport(self._answer), follow_redirects=False)

    def bearer_tokens(self) -> set[str]:
        """The bearer tokens the meetings service called the other services with."""
        return {r.headers.get("authorization", "").removeprefix("Bearer ") for r in self.requests}

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        origin = f"{request.url.scheme}://{request.url.host}"
        service = {RISK_URL: self.risk, REFERRAL_URL: self.referrals}.get(origin)
        listing = service.listings().get(request.url.path) if service else None
        if listing is None or request.method != "GET":
            return _problem(404, f"The fake has no {request.method} {request.url.path} at {origin}")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return _problem(401, "A bearer token is required")
        return listing.answer(request)
