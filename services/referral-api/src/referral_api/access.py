"""Who may see which case records (ARCHITECTURE.md, "Identity and access").

Case workers of the statutory partners (social care, police, health) read every
case; case workers of other agencies read the cases of children their agency is
linked to (by a referral it sent or a case allocated to it); referrers read back
only what their own agency sent. A record the caller may not see answers 404,
exactly as one that does not exist.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import AgencyType, Principal, Role

CASE_ROLES = (Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator)
READ_ROLES = (Role.referrer, *CASE_ROLES)
SUBMIT_ROLES = (Role.referrer, Role.practitioner, Role.manager)
# Persons and places of concern are intelligence: police and social care only.
INTELLIGENCE_AGENCY_TYPES = frozenset({AgencyType.police, AgencyType.social_care})


def sees_all_cases(principal: Principal) -> bool:
    """True for case workers of the statutory partners."""
    return principal.is_statutory_partner and principal.has_role(*CASE_ROLES)


def works_linked_cases(principal: Principal) -> bool:
    """True for case workers of any agency: they see the children linked to their agency."""
    return principal.has_role(*CASE_ROLES)


def reads_intelligence(principal: Principal) -> bool:
    """True for case workers of police and social care."""
    return principal.agency_type in INTELLIGENCE_AGENCY_TYPES and principal.has_role(*CASE_ROLES)
