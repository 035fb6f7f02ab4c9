"""The caller as the platform sees it once its token is verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from safeguarding_kit.partnership.capacities import Capacity


class AgencyType(StrEnum):
    police = "police"
    social_care = "social_care"
    health = "health"
    education = "education"
    youth_service = "youth_service"
    voluntary = "voluntary"
    other = "other"


class Role(StrEnum):
    referrer = "referrer"
    practitioner = "practitioner"
    risk_assessor = "risk_assessor"
    meeting_coordinator = "meeting_coordinator"
    manager = "manager"
    analyst = "analyst"
    auditor = "auditor"
    admin = "admin"


# The roles of people who work with children's cases (as opposed to referring, analysing,
# auditing or administering): what a record's need-to-know rules start from.
CASE_ROLES: frozenset[Role] = frozenset(
    {Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator}
)


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: person or system (`sub`) acting for an agency with some roles,
    and the capacities the partnership agreement grants that agency."""

    sub: str
    agency: str
    agency_type: AgencyType
    roles: frozenset[Role] = field(default_factory=frozenset)
    issuer: str = ""
    capacities: frozenset[Capacity] = field(default_factory=frozenset)

    def has_role(self, *roles: Role) -> bool:
        """True when the caller holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    def has_capacity(self, capacity: Capacity) -> bool:
        """True when the agreement grants the caller's agency ``capacity``."""
        return capacity in self.capacities
