"""Every read and write of a child's risk, in this service's hash-chained audit log."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from risk_api.database import AUDIT
from safeguarding_kit.audit import append_audit
from safeguarding_kit.auth.principal import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str,
    child_id: uuid.UUID | None,
    *,
    outcome: str = "allowed",
    detail: str | None = None,
) -> None:
    """Add one audit record in the caller's transaction."""
    append_audit(
        session,
        AUDIT,
        principal=principal,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        child_id=child_id,
        outcome=outcome,
        detail=detail,
    )
