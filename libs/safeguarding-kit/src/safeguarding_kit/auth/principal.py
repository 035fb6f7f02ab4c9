"""The caller as the platform sees it once its token is verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AgencyType(StrEnum):
    police = "police"
    social_care = "social_care"
    health = "health"
    education = "education"
    youth_service = "youth_service"
    voluntary = "voluntary"
    other = "other"


# The statutory safeguarding partners read case records without a link to the child.
STATUTORY_PARTNERS: frozenset[AgencyType] = frozenset(
    {AgencyType.police, AgencyType.social_care, AgencyType.health}
)


class Role(StrEnum):
    referrer = "referrer"
    practitioner = "practitioner"
    risk_assessor = "risk_assessor"
    meeting_coordinator = "meeting_coordinator"
    manager = "manager"
    analyst = "analyst"
    auditor = "auditor"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: person or system (`sub`) acting for an agency with some roles."""

    sub: str
    agency: str
    agency_type: AgencyType
    roles: frozenset[Role] = field(default_factory=frozenset)
    issuer: str = ""

    def has_role(self, *roles: Role) -> bool:
        """True when the caller holds at least one of ``roles``."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_statutory_partner(self) -> bool:
        return self.agency_type in STATUTORY_PARTNERS
