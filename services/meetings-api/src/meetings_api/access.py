"""Who may see and run meetings, from the one policy
(:mod:`safeguarding_kit.partnership.policy`).

Meeting records name children by opaque id and hold case discussion: case workers of
agencies granted ``chairs_meetings`` read every meeting and their coordinators run
them; case workers of any other agency read the meetings their agency is invited to
(absent or not: an absent agency catches up from the agenda). A token without a case
role reads none.
"""

from __future__ import annotations

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.partnership.policy import Permission, allows


def reads_meetings(principal: Principal) -> bool:
    """True for case workers of the agencies that chair meetings: every meeting."""
    return allows(principal, Permission.read_all_meetings)


def reads_invited_meetings(principal: Principal) -> bool:
    """True for case workers of any agency: the meetings their agency is invited to."""
    return allows(principal, Permission.read_invited_meetings)


def reads_meeting(principal: Principal, *, invited: bool) -> bool:
    """True when the caller may read one meeting (its agenda, attendance and minutes):
    a chairing agency's case worker always, another agency's case worker when their
    agency is on its attendance list (``invited``: present, with apologies or absent)."""
    return reads_meetings(principal) or (invited and reads_invited_meetings(principal))


def runs_meetings(principal: Principal) -> bool:
    """True for meeting coordinators of the agencies that chair meetings."""
    return allows(principal, Permission.run_meetings)
