"""The referral workflow as data: which status may follow which, and who may move it.

received -> screening -> allocated | signposted | no_further_action -> closed
"""

from __future__ import annotations

from referral_api.referrals.models import ReferralStatus
from safeguarding_kit.auth.principal import Role

ALLOWED_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.received: frozenset({ReferralStatus.screening}),
    ReferralStatus.screening: frozenset(
        {ReferralStatus.allocated, ReferralStatus.signposted, ReferralStatus.no_further_action}
    ),
    ReferralStatus.allocated: frozenset({ReferralStatus.closed}),
    ReferralStatus.signposted: frozenset({ReferralStatus.closed}),
    ReferralStatus.no_further_action: frozenset({ReferralStatus.closed}),
    ReferralStatus.closed: frozenset(),
}

# A decision ends the statutory "decision within 1 working day" clock.
DECISIONS = frozenset({ReferralStatus.allocated, ReferralStatus.signposted, ReferralStatus.no_further_action})

# Screening is practitioners' work; decisions and closing are managers' (ARCHITECTURE.md roles).
ROLES_FOR: dict[ReferralStatus, tuple[Role, ...]] = {
    ReferralStatus.screening: (Role.practitioner, Role.manager),
    ReferralStatus.allocated: (Role.manager,),
    ReferralStatus.signposted: (Role.manager,),
    ReferralStatus.no_further_action: (Role.manager,),
    ReferralStatus.closed: (Role.manager,),
}


def can_transition(current: ReferralStatus, target: ReferralStatus) -> bool:
    """True when ``target`` may follow ``current``."""
    return target in ALLOWED_TRANSITIONS[current]


def is_open(status: ReferralStatus) -> bool:
    """A referral still waiting for its decision."""
    return status in (ReferralStatus.received, ReferralStatus.screening)
