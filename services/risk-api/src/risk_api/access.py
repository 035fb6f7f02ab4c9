"""Who may see and change children's risk, from the one policy
(:mod:`safeguarding_kit.partnership.policy`).

The risk service holds no names, but a child's risk is a case record: case workers of
agencies granted ``all_cases`` read it; case workers of other agencies read the risk of
children their agency is linked to (the referral service announces each link with a
``child.agency_linked`` event, kept here in ``child_agency_links``). Everyone else gets 404.

Break-glass is the one exception, and only for reading: a grant the referral service
gave (announced by its ``access.break_glass`` event, kept here in ``break_glass_grants``)
opens one child's risk and assessment history to one person (``sub`` at ``agency``)
until it expires; every read under it is audited with the grant. It never lets them
assess, override or open a screening, and their agency hears no events of the child.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.partnership.policy import Permission, allows


def reads_risk(principal: Principal) -> bool:
    """True for case workers of the hub's own teams (``all_cases``)."""
    return allows(principal, Permission.read_all_cases)


def reads_linked_risk(principal: Principal) -> bool:
    """True for case workers of any agency: they read linked children's risk."""
    return allows(principal, Permission.work_linked_cases)


def reads_under_break_glass(principal: Principal) -> bool:
    """True for case workers of any agency: a break-glass grant they hold opens the
    child's risk to them, to read."""
    return allows(principal, Permission.break_glass)
