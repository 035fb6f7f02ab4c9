"""The referral workflow as data: which status may follow which, and which permission
(role and the agreement's capacity, :mod:`safeguarding_kit.partnership.policy`) moves it.

received -> screening -> allocated | signposted | no_further_action -> closed
"""

from __future__ import annotations

from referral_api.referrals.models import ReferralStatus
from safeguarding_kit.partnership.policy import Permission

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

# Screening and every decision are the work of the hub's referral decision team
# (`decides_referrals`): practitioners or managers screen, managers decide and close.
PERMISSION_FOR: dict[ReferralStatus, Permission] = {
    ReferralStatus.screening: Permission.screen_referrals,
    ReferralStatus.allocated: Permission.decide_referrals,
    ReferralStatus.signposted: Permission.decide_referrals,
    ReferralStatus.no_further_action: Permission.decide_referrals,
    ReferralStatus.closed: Permission.decide_referrals,
}


def can_transition(current: ReferralStatus, target: ReferralStatus) -> bool:
    """True when ``target`` may follow ``current``."""
    return target in ALLOWED_TRANSITIONS[current]


def is_open(status: ReferralStatus) -> bool:
    """A referral still waiting for its decision."""
    return status in (ReferralStatus.received, ReferralStatus.screening)
