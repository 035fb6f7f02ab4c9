"""Every read and write of meeting records about a child, in this service's hash-chained audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from meetings_api.database import AUDIT
from safeguarding_kit.audit.service import AuditTrail
from safeguarding_kit.auth.principal import Principal

TRAIL = AuditTrail(AUDIT)


def record_for_children(
    session: Session,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str,
    child_ids: Iterable[uuid.UUID | str],
    *,
    detail: str | None = None,
    outcome: str = "allowed",
) -> None:
    """One audit record per child the resource is about, in the caller's transaction
    (``outcome="denied"`` for a refusal)."""
    for child_id in child_ids:
        TRAIL.record(
            session,
            principal,
            action,
            resource_type,
            resource_id,
            uuid.UUID(str(child_id)),
            detail=detail,
            outcome=outcome,
        )
