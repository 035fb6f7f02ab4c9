"""The risk service as the agenda reads it: children's current risk, by question."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from meetings_api.agendas.upstream.paging import ServiceLists, UpstreamModel


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Trend(StrEnum):
    first = "first"
    rising = "rising"
    steady = "steady"
    falling = "falling"


class ChildRisk(UpstreamModel):
    """A child's current risk (``listChildRisks`` item): the fields the agenda reads."""

    child_id: uuid.UUID
    current_level: RiskLevel | None = None
    previous_level: RiskLevel | None = None


class RiskQuery(BaseModel):
    """Which children's risk to list (``listChildRisks`` filters; all must hold)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: RiskLevel | None = None
    trend: Trend | None = None
    level_changed_since: AwareDatetime | None = None
    review_due_before: AwareDatetime | None = None
    assessed_before: AwareDatetime | None = None

    def params(self) -> dict[str, str]:
        """The query string the risk service documents."""
        return {
            name: str(value) if isinstance(value, StrEnum) else value.isoformat()
            for name, value in self
            if value is not None
        }


class RiskClient(Protocol):
    def child_risks(self, query: RiskQuery) -> list[ChildRisk]:
        """Every child matching ``query`` that the caller may see."""
        ...


class HttpRiskClient:
    """:class:`RiskClient` over the risk service's ``GET /api/v1/risk/children``."""

    def __init__(self, lists: ServiceLists) -> None:
        self._lists = lists

    def child_risks(self, query: RiskQuery) -> list[ChildRisk]:
        return self._lists.read_all(
            "/api/v1/risk/children", query.params(), ChildRisk, listing="children's risks"
        )
