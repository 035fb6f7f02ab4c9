"""Who may see and change children's risk (ARCHITECTURE.md, "Identity and access").

The risk service holds no names, but a child's risk is a case record: case workers
of the statutory partners read it. Agencies outside them gain access to a child's
case through a link held by the referral service; until those links reach this
service (the events issue), they are refused here, as 404.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal, Role

CASE_ROLES = (Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator)


def reads_risk(principal: Principal) -> bool:
    """True for case workers of the statutory partners."""
    return principal.is_statutory_partner and principal.has_role(*CASE_ROLES)
