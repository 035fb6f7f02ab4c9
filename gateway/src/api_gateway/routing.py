"""Which service answers which path (README, "What runs")."""

from __future__ import annotations

from collections.abc import Mapping
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
    ("/api/v1/partnership", Upstream.referral),
    ("/api/v1/break-glass", Upstream.referral),
    ("/api/v1/risk", Upstream.risk),
    ("/api/v1/meetings", Upstream.meetings),
)


def upstream_for(path: str) -> Upstream | None:
    """The service behind ``path``, matching whole path segments; None if no service is."""
    for prefix, upstream in ROUTES:
        if _under(path, prefix):
            return upstream
    return None


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def read_timeout_for(path: str, route_timeouts: Mapping[str, float], default: float) -> float:
    """How long to wait for the service's answer to ``path``: the timeout of the longest
    configured path prefix it lies under (whole segments), else ``default``."""
    matching = [prefix for prefix in route_timeouts if _under(path, prefix)]
    return route_timeouts[max(matching, key=len)] if matching else default
