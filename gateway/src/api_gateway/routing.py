"""Which service answers which path (README, "What runs")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from safeguarding_kit.service_label import MEETINGS_SERVICE, REFERRAL_SERVICE, RISK_SERVICE


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
    # Each service's partner webhooks and audit chain, under the one scheme of the kit's labels.
    (REFERRAL_SERVICE.audit_prefix, Upstream.referral),
    (REFERRAL_SERVICE.webhooks_prefix, Upstream.referral),
    (RISK_SERVICE.audit_prefix, Upstream.risk),
    (RISK_SERVICE.webhooks_prefix, Upstream.risk),
    (MEETINGS_SERVICE.audit_prefix, Upstream.meetings),
    (MEETINGS_SERVICE.webhooks_prefix, Upstream.meetings),
    ("/api/v1/stats", Upstream.referral),
    ("/api/v1/partnership", Upstream.referral),
    ("/api/v1/break-glass", Upstream.referral),
    # Information governance: holds and disposal are coordinated where children are held, and
    # a subject access request is assembled there (from all three services).
    ("/api/v1/retention", Upstream.referral),
    ("/api/v1/subject-access-requests", Upstream.referral),
    # What the partnership does next: support for children, disruption of those who exploit them.
    ("/api/v1/disruption", Upstream.referral),
    ("/api/v1/support", Upstream.referral),
    ("/api/v1/risk", Upstream.risk),
    ("/api/v1/meetings", Upstream.meetings),
)


# The one request a caller makes without a bearer token: a calendar app reading a meetings
# calendar feed, whose address holds its own credential (a 256-bit token from
# secrets.token_urlsafe(32), which the meetings service checks, 404 when it is no feed's).
# Exactly this shape, GET only, written as sent (no percent-encoding); nothing else opens.
CALENDAR_FEED_PATH = re.compile(r"/api/v1/meetings/calendar-feeds/[A-Za-z0-9_-]{43}\.ics")


def is_calendar_feed_read(method: str, path: str, raw_path: bytes) -> bool:
    """True for a calendar feed read, the one request the gateway lets through without a
    bearer token: GET of a feed address, exactly, as the caller wrote it."""
    return (
        method == "GET"
        and CALENDAR_FEED_PATH.fullmatch(path) is not None
        and raw_path == path.encode("ascii")
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
