"""Business rules for calendar feeds: issue a feed's address once, keep only its hash,
list and revoke feeds, and serve a feed only while its owner may still see its series.

A calendar app cannot send a bearer token, so the address itself is the credential: 256
random bits (``secrets.token_urlsafe(32)``) in the path, stored as SHA-256 only. On every
read the owner is rebuilt as their token said when they subscribed and checked against
the partnership agreement as it is now (the issuer still vouches for the agency, the
agency still has the type and capacity it needs) and the one policy; a feed whose owner
no longer passes reads like one that never existed (404), and the refusal is audited.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from meetings_api import access
from meetings_api.audit_trail import TRAIL
from meetings_api.calendar_feeds.models import CalendarFeed
from meetings_api.calendar_feeds.schemas import CalendarFeedCreate
from meetings_api.series.calendar import calendar_feed
from meetings_api.series.models import MeetingSeries
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.partnership.policy import Permission, allows
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem

FEED_PATH = "/api/v1/meetings/calendar-feeds/{token}.ics"
TOKEN_BYTES = 32
# What secrets.token_urlsafe(32) gives: 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
REFRESH = timedelta(hours=1)
RESOURCE_TYPE = "calendar_feed"
# A person's live feeds at once: enough for every device, few enough to review.
MAX_LIVE_FEEDS = 20


class CalendarFeedNotFound(NotFound):
    """No calendar feed answers at this address, or no feed with this id is yours to
    manage: never issued, revoked, expired, or its owner may no longer see meeting series,
    all answered alike."""

    slug, title = "calendar-feed-not-found", "Calendar feed not found"


class UnknownSeries(Problem):
    """A meeting series named in the request does not exist; `errors` points at each."""

    status, slug, title = 422, "unknown-series", "No such meeting series"


class TooManyCalendarFeeds(Conflict):
    """You already have the most calendar feeds a person may have live; revoke one first."""

    slug, title = "too-many-calendar-feeds", "Too many calendar feeds"


@dataclass(frozen=True, slots=True)
class IssuedFeed:
    """A new feed and its token, which exists nowhere else once the answer is sent."""

    feed: CalendarFeed
    token: str


def token_sha256(token: str) -> str:
    """The hex SHA-256 of a feed token: what is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def feed_path(token: str) -> str:
    return FEED_PATH.format(token=token)


def create_feed(
    session: Session, principal: Principal, data: CalendarFeedCreate, *, now: datetime
) -> IssuedFeed:
    """A feed of ``data.series_ids`` (every series the caller may see when None) owned
    by ``principal`` (audited), and its token; :class:`UnknownSeries` (422) naming each id that is
    no series, :class:`TooManyCalendarFeeds` (409) for an owner with ``MAX_LIVE_FEEDS``
    feeds neither revoked nor expired. Commits."""
    if _live_feeds(session, principal, now) >= MAX_LIVE_FEEDS:
        raise TooManyCalendarFeeds(
            f"You have {MAX_LIVE_FEEDS} calendar feeds in use; revoke one you no longer need first."
        )
    if data.series_ids is not None:
        _check_series_exist(session, data.series_ids)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        token_sha256=token_sha256(token),
        label=data.label,
        series_ids=list(dict.fromkeys(str(s) for s in data.series_ids)) if data.series_ids else None,
        owner_issuer=principal.issuer,
        owner_sub=principal.sub,
        owner_agency=principal.agency,
        owner_agency_type=principal.agency_type.value,
        owner_roles=sorted(r.value for r in principal.roles),
        created_at=now,
        expires_at=now + timedelta(days=data.valid_days),
    )
    session.add(feed)
    session.flush()
    TRAIL.record(session, principal, "create", RESOURCE_TYPE, feed.id, None, detail=_scope_of(feed))
    session.commit()
    return IssuedFeed(feed, token)


def _scope_of(feed: CalendarFeed) -> str:
    return "every series" if feed.series_ids is None else f"{len(feed.series_ids)} series"


def _live_feeds(session: Session, principal: Principal, now: datetime) -> int:
    live = _owned_by(principal).where(CalendarFeed.revoked_at.is_(None), CalendarFeed.expires_at > now)
    return session.scalar(select(func.count()).select_from(live.subquery())) or 0


def _check_series_exist(session: Session, series_ids: list[uuid.UUID]) -> None:
    known = set(session.scalars(select(MeetingSeries.id).where(MeetingSeries.id.in_(series_ids))))
    unknown = [
        FieldError(detail=f"There is no meeting series {sid}.", pointer=f"#/series_ids/{i}")
        for i, sid in enumerate(series_ids)
        if sid not in known
    ]
    if unknown:
        raise UnknownSeries("A series to subscribe to does not exist; see errors.", errors=unknown)


def _manages_agency_feeds(principal: Principal) -> bool:
    return allows(principal, Permission.manage_agency_calendar_feeds)


def _may_manage(principal: Principal, feed: CalendarFeed) -> bool:
    """The feed's owner, or an admin of the owner's agency."""
    if feed.owner_agency != principal.agency:
        return False
    return _is_owner(principal, feed) or _manages_agency_feeds(principal)


def _is_owner(principal: Principal, feed: CalendarFeed) -> bool:
    return (
        feed.owner_issuer == principal.issuer
        and feed.owner_agency == principal.agency
        and feed.owner_sub == principal.sub
    )


def _owned_by(principal: Principal) -> Select[Any]:
    return select(CalendarFeed).where(
        CalendarFeed.owner_issuer == principal.issuer,
        CalendarFeed.owner_agency == principal.agency,
        CalendarFeed.owner_sub == principal.sub,
    )


def feeds_page(
    session: Session, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[CalendarFeed], str | None]:
    """Newest first: every feed of the caller's agency for its admins, else the caller's own."""
    stmt = (
        select(CalendarFeed).where(CalendarFeed.owner_agency == principal.agency)
        if _manages_agency_feeds(principal)
        else _owned_by(principal)
    )
    return paginate(
        session,
        stmt,
        created_at=CalendarFeed.created_at,
        id_column=CalendarFeed.id,
        limit=limit,
        cursor=cursor,
    )


def revoke_feed(session: Session, principal: Principal, feed_id: uuid.UUID, *, now: datetime) -> None:
    """Stop the feed for good (its owner, or an admin of its agency; a feed the caller
    may not manage is :class:`CalendarFeedNotFound`), audited. Revoking twice keeps the
    first time. Commits."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or not _may_manage(principal, feed):
        raise CalendarFeedNotFound(f"There is no calendar feed {feed_id} that you can manage.")
    if feed.revoked_at is None:
        feed.revoked_at = now
        feed.revoked_by = principal.sub
        by = "by its owner" if _is_owner(principal, feed) else "by an admin of its agency"
        TRAIL.record(session, principal, "revoke", RESOURCE_TYPE, feed.id, None, detail=by)
    session.commit()


def owner_now(feed: CalendarFeed, agreement: Agreement) -> Principal:
    """The feed's owner as their token said when they subscribed, with the capacities the
    agreement grants their agency today: none if the agreement no longer lets their
    issuer vouch for the agency or gives it another type (the agency left, or changed)."""
    binding = agreement.issuer(feed.owner_issuer)
    entry = agreement.agency(feed.owner_agency)
    still_vouched = (
        binding is not None
        and binding.may_vouch_for(feed.owner_agency)
        and entry is not None
        and entry.type.value == feed.owner_agency_type
    )
    known_roles = {r.value for r in Role}
    return Principal(
        sub=feed.owner_sub,
        agency=feed.owner_agency,
        agency_type=AgencyType(feed.owner_agency_type),
        roles=frozenset(Role(r) for r in feed.owner_roles if r in known_roles),
        issuer=feed.owner_issuer,
        capacities=entry.capacities if still_vouched and entry is not None else frozenset(),
    )


def _refusal(feed: CalendarFeed, owner: Principal, now: datetime) -> str | None:
    """Why the feed may not be read now, for the audit record; None if it may."""
    if feed.revoked_at is not None:
        return "the feed was revoked"
    if feed.expires_at <= now:
        return "the feed has expired"
    if not access.reads_meetings(owner):
        return "the owner's agency or roles no longer allow reading meeting series"
    return None


def _followed(session: Session, series_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The series and those continuing them after 'this and following' changes."""
    chain, frontier = list(series_ids), list(series_ids)
    while frontier:
        frontier = [
            s
            for s in session.scalars(
                select(MeetingSeries.id).where(MeetingSeries.continues_series_id.in_(frontier))
            )
            if s not in chain
        ]
        chain += frontier
    return chain


def _feed_series(session: Session, feed: CalendarFeed) -> list[MeetingSeries]:
    stmt = select(MeetingSeries).order_by(MeetingSeries.created_at, MeetingSeries.id)
    if feed.series_ids is not None:
        stmt = stmt.where(MeetingSeries.id.in_(_followed(session, [uuid.UUID(s) for s in feed.series_ids])))
    return list(session.scalars(stmt))


def read_feed(session: Session, token: str, agreement: Agreement, *, now: datetime) -> bytes:
    """The ICS text of the feed whose token is ``token``, with its use audited under the
    owner's name and the feed's id (never the token). A token of no feed, or of a feed
    revoked, expired or whose owner may no longer see meeting series, is
    :class:`CalendarFeedNotFound`, all alike (the last three audited as refused). Commits."""
    not_found = CalendarFeedNotFound("There is no calendar feed at this address.")
    if TOKEN_SHAPE.fullmatch(token) is None:
        raise not_found
    digest = token_sha256(token)
    feed = session.scalars(select(CalendarFeed).where(CalendarFeed.token_sha256 == digest)).first()
    if feed is None:
        raise not_found
    owner = owner_now(feed, agreement)
    refusal = _refusal(feed, owner, now)
    if refusal is not None:
        TRAIL.record(session, owner, "read", RESOURCE_TYPE, feed.id, None, outcome="denied", detail=refusal)
        session.commit()
        raise not_found
    series = _feed_series(session, feed)
    body = calendar_feed(session, series, name=feed.label, now=now, refresh=REFRESH)
    feed.last_used_at = now
    TRAIL.record(session, owner, "read", RESOURCE_TYPE, feed.id, None, detail=f"{len(series)} series")
    session.commit()
    return body
