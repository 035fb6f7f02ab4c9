"""Who may see which case records, in this service's words, from the one policy
(:mod:`safeguarding_kit.partnership.policy`: role and the agreement's capacity).

Case workers of agencies granted ``all_cases`` (the hub's own teams) read every case;
case workers of other agencies read the cases of children their agency is linked to
(a referral it sent, a case allocated to it) or opened by break-glass; referrers read
back only what their own agency sent. A record the caller may not see answers 404,
exactly as one that does not exist.

Break-glass is the one exception, and only for reading: a grant opens one child's
record, referrals and missing episodes to one person (``sub`` at ``agency``) until it
expires, and every read under it is audited with the grant and its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.break_glass.models import BreakGlassGrant
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now
from safeguarding_kit.partnership.policy import Permission, allows


def sees_all_cases(principal: Principal) -> bool:
    """True for case workers of the hub's own teams (``all_cases``)."""
    return allows(principal, Permission.read_all_cases)


def works_linked_cases(principal: Principal) -> bool:
    """True for case workers of any agency: they see the children linked to their agency."""
    return allows(principal, Permission.work_linked_cases)


def reads_intelligence(principal: Principal) -> bool:
    """True for case workers of agencies granted ``intelligence``."""
    return allows(principal, Permission.work_intelligence)


def may_break_glass(principal: Principal) -> bool:
    """True for those who may hold a break-glass grant: no grant counts for anyone else."""
    return allows(principal, Permission.break_glass)


def _open_grants(principal: Principal) -> Select[BreakGlassGrant]:
    now = utc_now()
    grants = select(BreakGlassGrant).where(
        BreakGlassGrant.sub == principal.sub,
        BreakGlassGrant.agency == principal.agency,
        BreakGlassGrant.granted_at <= now,
        BreakGlassGrant.expires_at > now,
    )
    return grants if may_break_glass(principal) else grants.where(false())


def children_opened_by_break_glass(principal: Principal) -> Select[tuple[uuid.UUID]]:
    """SQL: the ids of the children the caller (this person at this agency) holds an open
    break-glass grant on now; none for a caller who may not break glass."""
    return _open_grants(principal).with_only_columns(BreakGlassGrant.child_id)


def break_glass_note(grant: BreakGlassGrant) -> str:
    """The audit detail of a read under ``grant``: its id and reason (cut to the column)."""
    return audit_trail.detail(f"break_glass:{grant.id} reason:{grant.reason}")


def break_glass_notes(
    session: Session, principal: Principal, child_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """For each of ``child_ids`` the caller holds an open grant on, the audit detail its
    reads carry (the newest grant's); empty, without asking the database, for callers who
    never need a grant (the hub's teams) or may not hold one (a referrer reading back what
    its agency sent: no grant counts without the right to break glass)."""
    wanted = set(child_ids)
    if not wanted or sees_all_cases(principal) or not may_break_glass(principal):
        return {}
    grants = session.scalars(
        _open_grants(principal)
        .where(BreakGlassGrant.child_id.in_(wanted))
        .order_by(BreakGlassGrant.granted_at)
    )
    return {grant.child_id: break_glass_note(grant) for grant in grants}
