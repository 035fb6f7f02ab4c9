"""Fakes of the agenda's clients of the risk and referral services, built on the same
Protocols (``RiskClient``, ``ReferralClient``): records in memory, filtered as those
services document, typed models out, no HTTP. For the agenda rules' tests; the meetings
API's tests fake the services at their HTTP boundary instead (meetings_fake_services)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meetings_api.agendas.upstream.referral_client import (
    ConcernType,
    MissingEpisode,
    PersonOfConcern,
    PlaceOfConcern,
    Referral,
    ReferralQuery,
)
from meetings_api.agendas.upstream.risk_client import ChildRisk, RiskLevel, RiskQuery, Trend

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass
class RiskRecord:
    """A child's current risk as the risk service holds it."""

    child_id: uuid.UUID
    current_level: RiskLevel
    previous_level: RiskLevel | None = None
    trend: Trend = Trend.first
    level_changed_at: datetime = LONG_AGO
    last_assessed_at: datetime = LONG_AGO
    next_review_due: datetime = FAR_AHEAD

    def matches(self, query: RiskQuery) -> bool:
        return (
            (query.level is None or self.current_level is query.level)
            and (query.trend is None or self.trend is query.trend)
            and (query.level_changed_since is None or self.level_changed_at >= query.level_changed_since)
            and (query.review_due_before is None or self.next_review_due < query.review_due_before)
            and (query.assessed_before is None or self.last_assessed_at < query.assessed_before)
        )


@dataclass
class FakeRiskClient:
    """:class:`RiskClient` over records in memory; ``queries`` holds what it was asked."""

    records: list[RiskRecord] = field(default_factory=list)
    queries: list[RiskQuery] = field(default_factory=list)

    def assessed(self, child_id: uuid.UUID | None = None, **record: Any) -> uuid.UUID:
        """Adds a child's current risk (a new child unless ``child_id``), last assessed when
        its level changed unless said otherwise; gives the child's id."""
        child_id = child_id or uuid.uuid4()
        record.setdefault("last_assessed_at", record.get("level_changed_at", LONG_AGO))
        self.records.append(RiskRecord(child_id, **record))
        return child_id

    def child_risks(self, query: RiskQuery) -> list[ChildRisk]:
        self.queries.append(query)
        return [
            ChildRisk(child_id=r.child_id, current_level=r.current_level, previous_level=r.previous_level)
            for r in self.records
            if r.matches(query)
        ]


@dataclass
class ReferralRecord:
    id: uuid.UUID
    child_id: uuid.UUID
    concern_types: Sequence[ConcernType]
    received_at: datetime
    previous_referrals: int = 0


@dataclass
class FakeReferralClient:
    """:class:`ReferralClient` over records in memory."""

    referral_records: list[ReferralRecord] = field(default_factory=list)
    episodes: list[MissingEpisode] = field(default_factory=list)
    persons: list[PersonOfConcern] = field(default_factory=list)
    places: list[PlaceOfConcern] = field(default_factory=list)

    def referred(
        self,
        child_id: uuid.UUID | None = None,
        *concerns: ConcernType,
        received_at: datetime,
        previous_referrals: int = 0,
    ) -> uuid.UUID:
        """Adds a referral (about a new child unless ``child_id``); gives the child's id."""
        child_id = child_id or uuid.uuid4()
        self.referral_records.append(
            ReferralRecord(
                uuid.uuid4(),
                child_id,
                concerns or (ConcernType.criminal_exploitation,),
                received_at,
                previous_referrals,
            )
        )
        return child_id

    def went_missing(self, child_id: uuid.UUID, *at: datetime) -> None:
        self.episodes += [MissingEpisode(child_id=child_id, reported_missing_at=when) for when in at]

    def linked_person(self, *child_ids: uuid.UUID, alias: str = "Tee") -> PersonOfConcern:
        person = PersonOfConcern(id=uuid.uuid4(), alias=alias, child_ids=list(child_ids))
        self.persons.append(person)
        return person

    def referrals(self, query: ReferralQuery) -> list[Referral]:
        return [
            Referral(id=r.id, child_id=r.child_id, previous_referrals=r.previous_referrals)
            for r in self.referral_records
            if query.concern_type in r.concern_types and r.received_at >= query.received_from
        ]

    def missing_episodes(self, reported_since: datetime) -> list[MissingEpisode]:
        return [e for e in self.episodes if e.reported_missing_at >= reported_since]

    def persons_of_concern(self) -> list[PersonOfConcern]:
        return list(self.persons)

    def places_of_concern(self) -> list[PlaceOfConcern]:
        return list(self.places)
