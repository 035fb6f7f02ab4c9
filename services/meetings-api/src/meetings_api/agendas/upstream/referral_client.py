"""The referral service as the agenda reads it: referrals, missing episodes, and
persons and places of concern with the children linked to them (ids only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from meetings_api.agendas.upstream.paging import ServiceLists, UpstreamModel


class ConcernType(StrEnum):
    sexual_exploitation = "sexual_exploitation"
    criminal_exploitation = "criminal_exploitation"
    county_lines = "county_lines"
    online_harm = "online_harm"
    missing = "missing"
    trafficking = "trafficking"
    other = "other"


class Referral(UpstreamModel):
    id: uuid.UUID
    child_id: uuid.UUID
    previous_referrals: int = Field(ge=0, description="Earlier referrals about the same child.")

    @property
    def repeat(self) -> bool:
        """The child was referred before."""
        return self.previous_referrals >= 1


class ReferralQuery(BaseModel):
    """Referrals with this concern received from this time (``listReferrals`` filters)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concern_type: ConcernType
    received_from: AwareDatetime

    def params(self) -> dict[str, str]:
        return {"concern_type": self.concern_type.value, "received_from": self.received_from.isoformat()}


class MissingEpisode(UpstreamModel):
    child_id: uuid.UUID
    reported_missing_at: AwareDatetime


class PersonOfConcern(UpstreamModel):
    id: uuid.UUID
    name: str | None = Field(None, max_length=200)
    alias: str | None = Field(None, max_length=200)
    child_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class PlaceOfConcern(UpstreamModel):
    id: uuid.UUID
    name: str = Field(max_length=200)
    place_type: str = Field(max_length=50)
    ward_code: str | None = Field(None, max_length=20)
    child_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class ReferralClient(Protocol):
    def referrals(self, query: ReferralQuery) -> list[Referral]:
        """Every referral matching ``query`` that the caller may see."""
        ...

    def missing_episodes(self, reported_since: datetime) -> list[MissingEpisode]:
        """Every episode reported missing at or after ``reported_since`` that the caller may see."""
        ...

    def persons_of_concern(self) -> list[PersonOfConcern]:
        """Every person of concern the caller may see (none outside police and social care)."""
        ...

    def places_of_concern(self) -> list[PlaceOfConcern]:
        """Every place of concern the caller may see."""
        ...


class HttpReferralClient:
    """:class:`ReferralClient` over the referral service's list endpoints."""

    def __init__(self, lists: ServiceLists) -> None:
        self._lists = lists

    def referrals(self, query: ReferralQuery) -> list[Referral]:
        return self._lists.read_all("/api/v1/referrals", query.params(), Referral, listing="referrals")

    def missing_episodes(self, reported_since: datetime) -> list[MissingEpisode]:
        # Listed newest first: the pages before the first older episode hold them all.
        episodes = self._lists.read_all(
            "/api/v1/missing-episodes",
            {},
            MissingEpisode,
            listing="missing episodes",
            enough=lambda e: e.reported_missing_at < reported_since,
        )
        return [e for e in episodes if e.reported_missing_at >= reported_since]

    def persons_of_concern(self) -> list[PersonOfConcern]:
        return self._lists.read_all(
            "/api/v1/persons-of-concern", {}, PersonOfConcern, listing="persons of concern"
        )

    def places_of_concern(self) -> list[PlaceOfConcern]:
        return self._lists.read_all(
            "/api/v1/places-of-concern", {}, PlaceOfConcern, listing="places of concern"
        )
