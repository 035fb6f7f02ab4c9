"""Business rules for break-glass access: opening an unlinked child's record in an
emergency, for one person and a bounded time, with a written reason that auditors
review; and the auditors' list of grants."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import break_glass_note
from referral_api.break_glass.events import BreakGlassGranted
from referral_api.break_glass.models import BreakGlassGrant
from referral_api.children import service as children_service
from referral_api.children.models import Child
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.problems import Conflict, Forbidden


class ChildAlreadyVisible(Conflict):
    slug, title = "child-already-visible", "You can already see this child"


def auditors_hear(session: Session, principal: Principal, subject: str) -> bool:
    """Break-glass is announced to the agencies the agreement grants ``audits`` (the
    information governance teams), and to no one else, whatever children they may see."""
    return principal.has_capacity(Capacity.audits)


def _record_to_open(session: Session, child_id: uuid.UUID) -> Child:
    child = session.get(Child, child_id)
    if child is None:
        raise children_service.ChildNotFound(f"There is no child {child_id}.")
    seen = {child.id}
    # A merged duplicate is opened as the record it was merged into, where its case now is.
    while child.merged_into_id is not None and child.merged_into_id not in seen:
        seen.add(child.merged_into_id)
        child = session.get_one(Child, child.merged_into_id)
    return child


def break_glass(
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    reason: str,
    *,
    agreement: Agreement,
    window: timedelta,
    outbox: Outbox,
) -> BreakGlassGrant:
    """Open the child's record to the caller alone for ``window``, recording why;
    audited and announced to the auditors (ids only). Does not commit: the caller (the
    idempotent create) commits with its answer. :class:`ChildNotFound`
    for an unknown id, :class:`ChildAlreadyVisible` when no grant is needed."""
    if not agreement.knows_agency(principal.agency):
        raise Forbidden("Break-glass is for case workers of agencies in the partnership agreement.")
    child = _record_to_open(session, child_id)
    already = session.scalar(
        select(Child.id).where(Child.id == child.id, children_service.visible_children(principal))
    )
    if already is not None:
        raise ChildAlreadyVisible("You can already see this child's record; no break-glass is needed.")
    now = utc_now()
    grant = BreakGlassGrant(
        id=uuid.uuid4(),
        child_id=child.id,
        sub=principal.sub,
        agency=principal.agency,
        reason=reason,
        granted_at=now,
        expires_at=now + window,
    )
    session.add(grant)
    session.flush()
    audit_trail.record(
        session, principal, "break_glass", "child", child.id, child.id, detail=break_glass_note(grant)
    )
    # Ids only: never the reason, which may name people, nor anything of the child. Whom
    # the grant is for (a professional) is said: the risk service opens the child's risk
    # to that person alone, and the auditors review who broke glass.
    dataclasses.replace(outbox, partner_audience=auditors_hear).publish(
        session,
        BreakGlassGranted(
            grant_id=grant.id,
            child_id=child.id,
            agency=principal.agency,
            granted_to=principal.sub,
            expires_at=grant.expires_at,
        ),
    )
    return grant


def list_grants(
    session: Session,
    principal: Principal,
    *,
    child_id: uuid.UUID | None,
    agency: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[BreakGlassGrant], str | None]:
    """Break-glass grants, newest first, for the auditors' review; each listed grant is
    an audited read of that child's access."""
    stmt = select(BreakGlassGrant)
    if child_id is not None:
        stmt = stmt.where(BreakGlassGrant.child_id == child_id)
    if agency is not None:
        stmt = stmt.where(BreakGlassGrant.agency == agency)
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=BreakGlassGrant.granted_at,
        id_column=BreakGlassGrant.id,
        limit=limit,
        cursor=cursor,
    )
    for grant in rows:
        audit_trail.record(session, principal, "list", "break_glass_grant", grant.id, grant.child_id)
    session.commit()
    return rows, next_cursor
