"""Keeping each child's chronology from the events the services exchange.

The referral service's own events are applied as they are written, in the transaction that
writes them (the outbox's projections); the risk and meetings services' events as they are
delivered, in the transaction that takes them into the inbox (each applied once, whatever
is redelivered). Nothing is asked of another service at read time.

**Catching up.** While this service is stopped, the other services' relays keep its events
pending and retry them (a platform service that cannot be reached is never given up on; see
``safeguarding_kit.events.gives_up``): when it is back, each child's events arrive in order
and the chronology is complete again within the back-off (at most five minutes). An entry
is placed by when its step happened, so an event heard of late takes its place in the list.

Each handler takes the CloudEvent as a dict. A step of this service reads its own record for
when it happened (a missing episode reported a day late is placed when the child went
missing); another service's step is placed at its event's time. An event about a child no
longer held here (disposed of) is passed over; one about a merged record goes to the
surviving record."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api.children.service import surviving_child
from referral_api.chronology.models import ChronologyEntry, ChronologyKind
from referral_api.disruption.models import DisruptionAction, DisruptionActionChild
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.missing_episodes.schemas import InterviewOutcome
from referral_api.referrals.models import Referral
from referral_api.support.models import RiskLevel, Support
from referral_api.support.rules import waiting_days
from safeguarding_kit.cloudevents import event_time
from safeguarding_kit.events import EventHandler
from safeguarding_kit.new_rows import insert_new

LONDON = ZoneInfo("Europe/London")
_MAX_TEXT = 100  # a kind, a level or an agency's slug: never free text


def _data(event: Mapping[str, Any]) -> Mapping[str, Any]:
    data = event.get("data")
    if not isinstance(data, Mapping):
        raise ValueError("the event has no data object")
    return data


def _id(data: Mapping[str, Any], key: str) -> uuid.UUID:
    return uuid.UUID(str(data[key]))


def _slug(value: Any) -> str | None:
    """A kind, level, agency or date as another service sent it; refused if it is long
    enough to be free text."""
    if value is None:
        return None
    text = str(value)
    if len(text) > _MAX_TEXT:
        raise ValueError("a chronology detail is a kind or an id, not free text")
    return text


def _keep(
    session: Session,
    event: Mapping[str, Any],
    child_id: uuid.UUID,
    kind: ChronologyKind,
    occurred_at: datetime,
    details: Mapping[str, Any],
    disruption_action_id: uuid.UUID | None = None,
) -> None:
    child = surviving_child(session, child_id)
    if child is None:
        return  # disposed of (or never held here): nothing to keep
    # Written at once rather than by the unit of work at commit: one new row a step, and
    # for a referral's intake the only one left to flush.
    entry = ChronologyEntry(
        child_id=child.id,
        event_id=uuid.UUID(str(event["id"])),
        source=str(event["source"]),
        kind=kind,
        occurred_at=occurred_at,
        details=dict(details),
        disruption_action_id=disruption_action_id,
    )
    insert_new(session, [entry])


def on_its_day(day: date, recorded_at: datetime) -> datetime:
    """When a step known only by its day happened, for ordering: the time it was recorded if
    it was recorded that day (Europe/London), else the start of that day."""
    if recorded_at.astimezone(LONDON).date() == day:
        return recorded_at
    return datetime.combine(day, time.min, tzinfo=LONDON)


# --- this service's own steps -------------------------------------------------------------


def referral_received(session: Session, event: Mapping[str, Any]) -> None:
    data = _data(event)
    referral = session.get(Referral, _id(data, "referral_id"))
    details = {
        "referral_id": str(data["referral_id"]),
        "urgency": data["urgency"],
        "concern_types": list(data["concern_types"]),
        "source_agency_type": data["source_agency_type"],
    }
    occurred = referral.received_at if referral is not None else event_time(event)
    _keep(session, event, _id(data, "child_id"), ChronologyKind.referral_received, occurred, details)


def referral_status_changed(session: Session, event: Mapping[str, Any]) -> None:
    data = _data(event)
    details = {"referral_id": str(data["referral_id"]), "from": data["from"], "to": data["to"]}
    _keep(
        session,
        event,
        _id(data, "child_id"),
        ChronologyKind.referral_status_changed,
        event_time(event),
        details,
    )


def _episode_step(kind: ChronologyKind) -> EventHandler:
    def apply(session: Session, event: dict[str, Any]) -> None:
        data = _data(event)
        episode = session.get(MissingEpisode, _id(data, "missing_episode_id"))
        if episode is None:
            return
        details: dict[str, Any] = {"missing_episode_id": str(episode.id)}
        occurred: datetime | None
        if kind is ChronologyKind.missing_reported:
            occurred = episode.reported_missing_at
        elif kind is ChronologyKind.missing_found:
            occurred = episode.found_at
        else:
            outcome = InterviewOutcome(str(data["outcome"]))
            details["outcome"] = outcome.value
            occurred = {
                InterviewOutcome.offered: episode.rhi_offered_at,
                InterviewOutcome.completed: episode.rhi_completed_at,
                InterviewOutcome.declined: episode.rhi_declined_at,
            }[outcome]
        _keep(session, event, episode.child_id, kind, occurred or event_time(event), details)

    return apply


def _support_step(kind: ChronologyKind) -> EventHandler:
    def apply(session: Session, event: dict[str, Any]) -> None:
        support = session.get(Support, _id(_data(event), "support_id"))
        if support is None:
            return
        details: dict[str, Any] = {
            "support_id": str(support.id),
            "kind": support.kind.value,
            "provider_service": support.provider_service,
            "provider_agency": support.provider_agency,
        }
        occurred: datetime | None = support.requested_at
        if kind is ChronologyKind.support_started and support.started_at is not None:
            occurred = support.started_at
            details["waiting_days"] = waiting_days(support.requested_at, support.started_at)
        if kind is ChronologyKind.support_ended:
            occurred = support.ended_at
            details["end_reason"] = support.end_reason.value if support.end_reason else None
        _keep(session, event, support.child_id, kind, occurred or event_time(event), details)

    return apply


def disruption_recorded(session: Session, event: Mapping[str, Any]) -> None:
    """One entry for each child the action is linked to (police intelligence: read only by
    those who may work intelligence)."""
    action = session.get(DisruptionAction, _id(_data(event), "action_id"))
    if action is None:
        return
    details = {
        "action_id": str(action.id),
        "kind": action.kind,
        "target_type": action.target_type.value,
        "outcome": action.outcome.value,
    }
    occurred = on_its_day(action.action_date, action.recorded_at)
    children = session.scalars(
        select(DisruptionActionChild.child_id).where(DisruptionActionChild.action_id == action.id)
    )
    for child_id in list(children):
        _keep(session, event, child_id, ChronologyKind.disruption_recorded, occurred, details, action.id)


# --- the risk and meetings services' steps ------------------------------------------------


def risk_assessed(session: Session, event: Mapping[str, Any]) -> None:
    data = _data(event)
    details = {"assessment_id": str(_id(data, "assessment_id")), "level": RiskLevel(str(data["level"])).value}
    _keep(session, event, _id(data, "child_id"), ChronologyKind.risk_assessed, event_time(event), details)


def risk_level_changed(session: Session, event: Mapping[str, Any]) -> None:
    data = _data(event)
    before = data.get("from")
    details = {
        "child_id": str(_id(data, "child_id")),
        "from": None if before is None else RiskLevel(str(before)).value,
        "to": RiskLevel(str(data["to"])).value,
    }
    _keep(
        session, event, _id(data, "child_id"), ChronologyKind.risk_level_changed, event_time(event), details
    )


def _meeting_step(kind: ChronologyKind, ids: tuple[str, ...], words: tuple[str, ...]) -> EventHandler:
    def apply(session: Session, event: dict[str, Any]) -> None:
        data = _data(event)
        details: dict[str, Any] = {key: str(_id(data, key)) for key in ids}
        details.update({key: _slug(data.get(key)) for key in words})
        _keep(session, event, _id(data, "child_id"), kind, event_time(event), details)

    return apply


OWN_EVENTS: dict[str, EventHandler] = {
    "referral.received": referral_received,
    "referral.status_changed": referral_status_changed,
    "missing_episode.reported": _episode_step(ChronologyKind.missing_reported),
    "missing_episode.found": _episode_step(ChronologyKind.missing_found),
    "missing_episode.interview_recorded": _episode_step(ChronologyKind.return_home_interview),
    "support.offered": _support_step(ChronologyKind.support_offered),
    "support.started": _support_step(ChronologyKind.support_started),
    "support.ended": _support_step(ChronologyKind.support_ended),
    "disruption.recorded": disruption_recorded,
}
"""The referral service's own events the chronology keeps (applied as they are written)."""

OTHER_SERVICES_EVENTS: dict[str, EventHandler] = {
    "risk.assessed": risk_assessed,
    "risk.level_changed": risk_level_changed,
    "meeting.decision_recorded": _meeting_step(
        ChronologyKind.meeting_decision,
        ("decision_id", "agenda_item_id", "occurrence_id", "series_id"),
        ("meeting_kind", "meeting_starts_at"),
    ),
    "meeting.action_agreed": _meeting_step(
        ChronologyKind.meeting_action_agreed,
        ("action_id", "occurrence_id", "series_id"),
        ("meeting_kind", "owner_agency", "due_date"),
    ),
    "meeting.action_closed": _meeting_step(
        ChronologyKind.meeting_action_closed, ("action_id",), ("owner_agency", "status")
    ),
    "meeting.action_reopened": _meeting_step(
        ChronologyKind.meeting_action_reopened, ("action_id",), ("owner_agency",)
    ),
}
"""The risk and meetings services' events it keeps (applied as they are delivered)."""
