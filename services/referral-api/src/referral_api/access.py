"""Who may see which case records (ARCHITECTURE.md, "Identity and access").

Practitioners of the statutory partners (social care, police, health) read case
records; everyone else reads only what their own agency sent. A record the caller
may not see answers 404, exactly as one that does not exist.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal, Role

CASE_ROLES = (Role.practitioner, Role.manager, Role.risk_assessor, Role.meeting_coordinator)
READ_ROLES = (Role.referrer, *CASE_ROLES)
SUBMIT_ROLES = (Role.referrer, Role.practitioner, Role.manager)


def sees_all_cases(principal: Principal) -> bool:
    """True for case workers of the statutory partners."""
    return principal.is_statutory_partner and principal.has_role(*CASE_ROLES)
