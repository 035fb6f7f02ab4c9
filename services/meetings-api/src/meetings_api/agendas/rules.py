"""The agenda's rules: which children a meeting discusses and why, and how they are
grouped into items. Plain functions over the risk and referral services' typed data
(read through their client Protocols, so a fake can stand in); no HTTP, no database."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from meetings_api.agendas.models import ItemKind
from meetings_api.agendas.upstream.referral_client import (
    ConcernType,
    MissingEpisode,
    PersonOfConcern,
    PlaceOfConcern,
    ReferralClient,
    ReferralQuery,
)
from meetings_api.agendas.upstream.risk_client import RiskClient, RiskLevel, RiskQuery, Trend

EXPLOITATION_CONCERNS = (
    ConcernType.sexual_exploitation,
    ConcernType.criminal_exploitation,
    ConcernType.county_lines,
    ConcernType.trafficking,
)
REPEAT_MISSING_WINDOW = timedelta(days=90)
REPEAT_MISSING_EPISODES = 2


class ReasonCode(StrEnum):
    """Why an item is on an agenda (the ``code`` of each of its reasons)."""

    became_high = "became_high"
    risk_rose = "risk_rose"
    review_due = "review_due"
    not_reviewed = "not_reviewed"
    new_referral = "new_referral"
    repeat_missing = "repeat_missing"
    repeat_never_at_mace = "repeat_never_at_mace"
    open_action = "open_action"
    overdue_action = "overdue_action"
    linked_children = "linked_children"
    person_of_concern = "person_of_concern"
    place_of_concern = "place_of_concern"
    added_by_hand = "added_by_hand"


@dataclass(frozen=True)
class ChildSignal:
    """A child (opaque id), why they belong on the agenda, and whether the reason is a
    repeat (a repeat referral or repeated missing episodes)."""

    child_id: uuid.UUID
    code: ReasonCode
    detail: str
    repeat: bool = False


@dataclass(frozen=True)
class AgendaWindow:
    """What an agenda looks at: changes since the last meeting (``since``), reviews due
    by the meeting, and children not reviewed for ``review_gap_weeks`` before it."""

    since: datetime
    meeting_at: datetime
    review_gap_weeks: int

    @property
    def review_gap_start(self) -> datetime:
        return self.meeting_at - timedelta(weeks=self.review_gap_weeks)


@dataclass(frozen=True)
class WantedItem:
    """An agenda item as the rules want it; ``key`` identifies it across rebuilds."""

    key: str
    kind: ItemKind
    child_ids: list[str]
    subject_id: uuid.UUID | None
    title: str
    reasons: list[dict[str, str]]


def _reason(code: ReasonCode, detail: str) -> dict[str, str]:
    return {"code": code.value, "detail": detail}


def risk_signals(risk: RiskClient, window: AgendaWindow) -> list[ChildSignal]:
    """Risk became high or rose since the last meeting, a review is due before the
    meeting, or a child at medium or high risk has not been reviewed for the gap."""
    signals = [
        ChildSignal(r.child_id, ReasonCode.became_high, "Risk became high since the last meeting")
        for r in risk.child_risks(RiskQuery(level=RiskLevel.high, level_changed_since=window.since))
    ]
    signals += [
        ChildSignal(
            r.child_id,
            ReasonCode.risk_rose,
            f"Risk rose from {r.previous_level or 'none'} to {r.current_level or 'none'}",
        )
        for r in risk.child_risks(RiskQuery(trend=Trend.rising, level_changed_since=window.since))
    ]
    signals += [
        ChildSignal(r.child_id, ReasonCode.review_due, "Risk review due before this meeting")
        for r in risk.child_risks(RiskQuery(review_due_before=window.meeting_at))
    ]
    weeks = window.review_gap_weeks
    for level in (RiskLevel.medium, RiskLevel.high):
        signals += [
            ChildSignal(
                r.child_id,
                ReasonCode.not_reviewed,
                f"Not reviewed for {weeks} week{'s' if weeks != 1 else ''} or more",
            )
            for r in risk.child_risks(RiskQuery(level=level, assessed_before=window.review_gap_start))
        ]
    return signals


def referral_signals(referrals: ReferralClient, window: AgendaWindow) -> list[ChildSignal]:
    """Each referral with an exploitation concern received since the last meeting (a
    repeat referral marked as one)."""
    signals: list[ChildSignal] = []
    seen: set[uuid.UUID] = set()
    for concern in EXPLOITATION_CONCERNS:
        for referral in referrals.referrals(ReferralQuery(concern_type=concern, received_from=window.since)):
            if referral.id in seen:
                continue
            seen.add(referral.id)
            detail = "New referral with exploitation concerns"
            if referral.repeat:
                detail += f" (repeat referral: {referral.previous_referrals + 1} in all)"
            signals.append(
                ChildSignal(referral.child_id, ReasonCode.new_referral, detail, repeat=referral.repeat)
            )
    return signals


def repeat_missing_signals(episodes: Iterable[MissingEpisode], meeting_at: datetime) -> list[ChildSignal]:
    """Children reported missing at least twice in the 90 days before the meeting."""
    recent = meeting_at - REPEAT_MISSING_WINDOW
    counts = Counter(e.child_id for e in episodes if e.reported_missing_at >= recent)
    return [
        ChildSignal(
            child_id,
            ReasonCode.repeat_missing,
            f"Missing {count} times in the last {REPEAT_MISSING_WINDOW.days} days",
            repeat=True,
        )
        for child_id, count in sorted(counts.items(), key=lambda c: str(c[0]))
        if count >= REPEAT_MISSING_EPISODES
    ]


def child_signals(risk: RiskClient, referrals: ReferralClient, window: AgendaWindow) -> list[ChildSignal]:
    """Every reason the risk and referral services give for a child to be discussed."""
    episodes = referrals.missing_episodes(reported_since=window.meeting_at - REPEAT_MISSING_WINDOW)
    return [
        *risk_signals(risk, window),
        *referral_signals(referrals, window),
        *repeat_missing_signals(episodes, window.meeting_at),
    ]


def repeat_children(signals: Iterable[ChildSignal]) -> set[uuid.UUID]:
    """Children on the agenda for a repeat referral or repeated missing episodes."""
    return {s.child_id for s in signals if s.repeat}


def never_at_mace_signals(child_ids: Iterable[uuid.UUID]) -> list[ChildSignal]:
    """For children with repeats who have never been on a MACE agenda."""
    return [
        ChildSignal(
            c, ReasonCode.repeat_never_at_mace, "Repeated referrals or missing episodes, never at MACE"
        )
        for c in sorted(child_ids, key=str)
    ]


def child_items(signals: Iterable[ChildSignal]) -> list[WantedItem]:
    """One item per child with every reason (the first detail of each code), by child id."""
    reasons: dict[uuid.UUID, dict[ReasonCode, str]] = {}
    for signal in signals:
        reasons.setdefault(signal.child_id, {}).setdefault(signal.code, signal.detail)
    return [
        WantedItem(
            f"child:{child_id}",
            ItemKind.child,
            [str(child_id)],
            None,
            f"Child {str(child_id)[:8]}",
            [_reason(code, detail) for code, detail in sorted(reasons[child_id].items())],
        )
        for child_id in sorted(reasons, key=str)
    ]


def intelligence_items(
    persons: Iterable[PersonOfConcern], places: Iterable[PlaceOfConcern]
) -> list[WantedItem]:
    """CETG and mapping meetings: each person and place of concern, with the children
    linked to them as one group."""
    items = [
        WantedItem(
            f"person:{person.id}",
            ItemKind.person_of_concern,
            sorted(str(c) for c in person.child_ids),
            person.id,
            f"Person of concern: {person.alias or person.name or 'unnamed'}",
            [_reason(ReasonCode.person_of_concern, f"{len(person.child_ids)} linked children")],
        )
        for person in persons
    ]
    items += [
        WantedItem(
            f"place:{place.id}",
            ItemKind.place_of_concern,
            sorted(str(c) for c in place.child_ids),
            place.id,
            f"Place of concern: {place.name} ({place.place_type})",
            [_reason(ReasonCode.place_of_concern, f"ward {place.ward_code or 'n/a'}")],
        )
        for place in places
    ]
    return items


def group_linked_children(
    wanted: Collection[WantedItem], persons: Iterable[PersonOfConcern]
) -> list[WantedItem]:
    """Children on the agenda linked through the same person of concern become one item,
    with every child's reasons."""
    by_child = {entry.child_ids[0]: entry for entry in wanted if entry.kind is ItemKind.child}
    grouped: set[str] = set()
    groups = []
    for person in sorted(persons, key=lambda p: str(p.id)):
        members = sorted(str(c) for c in person.child_ids if str(c) in by_child and str(c) not in grouped)
        if len(members) < 2:
            continue
        grouped.update(members)
        reasons = [
            _reason(ReasonCode.linked_children, f"Linked through one person of concern ({len(members)})")
        ]
        reasons += [
            {"code": r["code"], "detail": f"Child {child[:8]}: {r['detail']}"}
            for child in members
            for r in by_child[child].reasons
        ]
        groups.append(
            WantedItem(
                f"group:person:{person.id}",
                ItemKind.children_group,
                members,
                person.id,
                f"Linked children ({len(members)})",
                reasons,
            )
        )
    return [entry for entry in wanted if not set(entry.child_ids) & grouped] + groups
