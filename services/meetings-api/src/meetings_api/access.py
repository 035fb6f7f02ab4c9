"""Who may see and run meetings (ARCHITECTURE.md, "Identity and access").

Meeting records name children by opaque id and hold case discussion: case workers of
the statutory partners read them; meeting coordinators of those partners run them.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal, Role

CASE_ROLES = (Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator)


def reads_meetings(principal: Principal) -> bool:
    return principal.is_statutory_partner and principal.has_role(*CASE_ROLES)


def runs_meetings(principal: Principal) -> bool:
    return principal.is_statutory_partner and principal.has_role(Role.meeting_coordinator)
