"""Who may see and change children's risk (ARCHITECTURE.md, "Identity and access").

The risk service holds no names, but a child's risk is a case record: case workers
of the statutory partners read it; case workers of other agencies read the risk of
children their agency is linked to (the referral service announces each link with a
``child.agency_linked`` event, kept here in ``child_agency_links``). Everyone else
gets 404.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal, Role

CASE_ROLES = (Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator)


def reads_risk(principal: Principal) -> bool:
    """True for case workers of the statutory partners."""
    return principal.is_statutory_partner and principal.has_role(*CASE_ROLES)


def reads_linked_risk(principal: Principal) -> bool:
    """True for case workers of any agency: they read linked children's risk."""
    return principal.has_role(*CASE_ROLES)
