"""Which service answers which path (ARCHITECTURE.md, "Processes and ports")."""

from __future__ import annotations

from enum import StrEnum


class Upstream(StrEnum):
    referral = "referral-api"
    risk = "risk-api"
    meetings = "meetings-api"


ROUTES: tuple[tuple[str, Upstream], ...] = (
    ("/api/v1/referrals", Upstream.referral),
    ("/api/v1/children", Upstream.referral),
    ("/api/v1/missing-episodes", Upstream.referral),
    ("/api/v1/persons-of-concern", Upstream.referral),
    ("/api/v1/places-of-concern", Upstream.referral),
    ("/api/v1/third-party-information", Upstream.referral),
    ("/api/v1/audit/referral-service", Upstream.referral),
    ("/api/v1/webhooks/referral-service", Upstream.referral),
    ("/api/v1/stats", Upstream.referral),
    ("/api/v1/risk", Upstream.risk),
    ("/api/v1/meetings", Upstream.meetings),
)


def upstream_for(path: str) -> Upstream | None:
    """The service behind ``path``, matching whole path segments; None if no service is."""
    for prefix, upstream in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return upstream
    return None
