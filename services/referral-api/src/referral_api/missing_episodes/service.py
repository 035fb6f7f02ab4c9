"""Business rules for missing episodes and return-home interviews."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import break_glass_notes
from referral_api.children import service as children_service
from referral_api.children.models import Child
from referral_api.missing_episodes.clock import return_home_interview_due
from referral_api.missing_episodes.events import (
    MissingEpisodeFound,
    MissingEpisodeInterviewRecorded,
    MissingEpisodeReported,
)
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.missing_episodes.schemas import (
    EpisodeCreate,
    FoundCreate,
    InterviewCreate,
    InterviewOutcome,
)
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem


class EpisodeNotFound(NotFound):
    slug, title = "missing-episode-not-found", "Missing episode not found"


class ImpossibleEpisodeStep(Conflict):
    slug, title = "impossible-episode-step", "That cannot happen to this episode now"


class InvalidEpisode(Problem):
    """The missing episode's details are not possible: a child the caller cannot see, or times
    in the future or out of order (reported, found, interviewed)."""

    status, slug, title = 422, "invalid-missing-episode", "Missing episode details not possible"


def _visible(principal: Principal, *, break_glass: bool = False) -> ColumnElement[bool]:
    """Episodes of children the caller may work on (with ``break_glass``, for a read, also
    of children opened to the caller by break-glass)."""
    return MissingEpisode.child_id.in_(
        select(Child.id).where(children_service.visible_children(principal, break_glass=break_glass))
    )


def interview_overdue(episode: MissingEpisode, now: datetime) -> bool:
    """Found, interview neither completed nor declined, and past its 72 hours."""
    return (
        episode.rhi_due_at is not None
        and episode.rhi_completed_at is None
        and episode.rhi_declined_at is None
        and now > episode.rhi_due_at
    )


def report_missing(
    session: Session, principal: Principal, data: EpisodeCreate, outbox: Outbox
) -> MissingEpisode:
    """A new missing episode of a child the caller can see; audited and announced. Does not
    commit: the caller (the idempotent create) commits with its answer."""
    try:
        child = children_service.get_child(session, principal, data.child_id)
    except children_service.ChildNotFound as exc:
        raise InvalidEpisode(
            "There is no child with this id that you can see.",
            errors=[FieldError(detail="no child with this id that you can see", pointer="#/child_id")],
        ) from exc
    if data.reported_missing_at > utc_now():
        raise InvalidEpisode(
            "A child cannot be reported missing in the future.",
            errors=[FieldError(detail="is in the future", pointer="#/reported_missing_at")],
        )
    episode = MissingEpisode(
        child_id=child.id,
        reported_by_agency=principal.agency,
        reported_by=principal.sub,
        reported_missing_at=data.reported_missing_at,
    )
    session.add(episode)
    session.flush()
    audit_trail.record(session, principal, "create", "missing_episode", episode.id, child.id)
    outbox.publish(session, MissingEpisodeReported(missing_episode_id=episode.id, child_id=child.id))
    return episode


def get_episode(
    session: Session, principal: Principal, episode_id: uuid.UUID, *, audit: bool = True
) -> MissingEpisode:
    """The episode if the caller may see it, else :class:`EpisodeNotFound`. With ``audit``
    it is a read (audited here, and open under break-glass); without, the caller is
    about to change it, which break-glass never allows."""
    episode = session.scalar(
        select(MissingEpisode).where(MissingEpisode.id == episode_id, _visible(principal, break_glass=audit))
    )
    if episode is None:
        hidden = session.get(MissingEpisode, episode_id)
        if hidden is not None:  # exists, but not for this caller: audit the refusal
            audit_trail.record(
                session, principal, "read", "missing_episode", episode_id, hidden.child_id, outcome="denied"
            )
            session.commit()
        raise EpisodeNotFound(f"There is no missing episode {episode_id} that you can see.")
    if audit:
        note = break_glass_notes(session, principal, [episode.child_id]).get(episode.child_id)
        audit_trail.record(
            session, principal, "read", "missing_episode", episode.id, episode.child_id, detail=note
        )
        session.commit()
    return episode


def record_found(
    session: Session,
    principal: Principal,
    episode_id: uuid.UUID,
    data: FoundCreate,
    if_match: str | None,
    outbox: Outbox,
) -> MissingEpisode:
    """The child was found: the return-home interview falls due 72 hours later."""
    episode = get_episode(session, principal, episode_id, audit=False)
    check_if_match(if_match, episode.row_version)
    if episode.found_at is not None:
        raise ImpossibleEpisodeStep("This child was already recorded as found.")
    if not episode.reported_missing_at <= data.found_at <= utc_now():
        raise InvalidEpisode(
            "Found must be after the report and not in the future.",
            errors=[FieldError(detail="must be between reported_missing_at and now", pointer="#/found_at")],
        )
    episode.found_at = data.found_at
    episode.found_location = data.found_location
    episode.rhi_due_at = return_home_interview_due(data.found_at)
    session.flush()
    audit_trail.record(
        session, principal, "update", "missing_episode", episode.id, episode.child_id, detail="found"
    )
    outbox.publish(session, MissingEpisodeFound(missing_episode_id=episode.id, child_id=episode.child_id))
    session.commit()
    return episode


def record_interview(
    session: Session,
    principal: Principal,
    episode_id: uuid.UUID,
    data: InterviewCreate,
    if_match: str | None,
    outbox: Outbox,
) -> MissingEpisode:
    """Offered, completed or declined: only once the child is found, each once."""
    episode = get_episode(session, principal, episode_id, audit=False)
    check_if_match(if_match, episode.row_version)
    if episode.found_at is None:
        raise ImpossibleEpisodeStep(
            "A return-home interview follows the child being found; record that first."
        )
    if episode.rhi_completed_at or episode.rhi_declined_at:
        raise ImpossibleEpisodeStep("The interview was already completed or declined.")
    if not episode.found_at <= data.at <= utc_now():
        raise InvalidEpisode(
            "The interview time must be after the child was found and not in the future.",
            errors=[FieldError(detail="must be between found_at and now", pointer="#/at")],
        )
    if data.outcome is InterviewOutcome.offered:
        episode.rhi_offered_at = data.at
    elif data.outcome is InterviewOutcome.completed:
        episode.rhi_completed_at = data.at
    else:
        episode.rhi_declined_at = data.at
    episode.rhi_recorded_by = principal.sub
    episode.rhi_notes = data.notes
    session.flush()
    audit_trail.record(
        session,
        principal,
        "update",
        "missing_episode",
        episode.id,
        episode.child_id,
        detail=f"interview_{data.outcome.value}",
    )
    outbox.publish(
        session,
        MissingEpisodeInterviewRecorded(
            missing_episode_id=episode.id, child_id=episode.child_id, outcome=data.outcome
        ),
    )
    session.commit()
    return episode


def list_episodes(
    session: Session,
    principal: Principal,
    *,
    child_id: uuid.UUID | None,
    open_only: bool,
    overdue_interviews_at: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MissingEpisode], str | None]:
    """Episodes the caller may see, newest first; ``overdue_interviews_at`` keeps those
    whose interview was overdue at that moment (the hub's list). Audited."""
    stmt = select(MissingEpisode).where(_visible(principal, break_glass=True))
    if child_id is not None:
        stmt = stmt.where(MissingEpisode.child_id == child_id)
    if open_only:
        stmt = stmt.where(MissingEpisode.found_at.is_(None))
    if overdue_interviews_at is not None:
        stmt = stmt.where(
            MissingEpisode.rhi_due_at < overdue_interviews_at,
            MissingEpisode.rhi_completed_at.is_(None),
            MissingEpisode.rhi_declined_at.is_(None),
        )
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=MissingEpisode.reported_missing_at,
        id_column=MissingEpisode.id,
        limit=limit,
        cursor=cursor,
    )
    notes = break_glass_notes(session, principal, (e.child_id for e in rows))
    for episode in rows:
        audit_trail.record(
            session,
            principal,
            "list",
            "missing_episode",
            episode.id,
            episode.child_id,
            detail=notes.get(episode.child_id),
        )
    session.commit()
    return rows, next_cursor
