"""Who a child's record was disclosed to, by category: a service's audit log summarised
for a subject access request (UK GDPR Art. 15(1)(c): "the recipients or categories of
recipient"). Each row is one agency and role doing one kind of thing to one kind of
record, how often and between which times; the people themselves (``actor_sub``) are
left out (a member of staff is not a recipient in their own right, and their identity is
theirs), and so are refused attempts, which disclosed nothing."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safeguarding_kit.audit.models import AuditTables

RECIPIENT_EXAMPLE: dict[str, JsonValue] = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": "practitioner",
    "action": "read",
    "resource_type": "child",
    "times": 4,
    "first_at": "2026-11-24T10:02:13Z",
    "last_at": "2026-12-01T15:40:00Z",
}


class AccessRecipient(BaseModel):
    """One category of recipient of a child's record in one service."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [RECIPIENT_EXAMPLE]})

    agency: str = Field(description="The agency's slug in the partnership agreement.")
    agency_type: str
    roles: str = Field(description="The roles the people held, comma-separated (e.g. `practitioner`).")
    action: str = Field(description="What they did: `read`, `list`, `create`, `update`...")
    resource_type: str = Field(description="What they did it to: `child`, `referral`, `assessment`...")
    times: int = Field(ge=1)
    first_at: datetime
    last_at: datetime


def _recipients(session: Session, tables: AuditTables, about: ColumnElement[bool]) -> list[AccessRecipient]:
    log = tables.log
    last_at = func.max(log.c.occurred_at).label("last_at")
    category = (
        log.c.actor_agency,
        log.c.actor_agency_type,
        log.c.actor_roles,
        log.c.action,
        log.c.resource_type,
    )
    rows = session.execute(
        select(*category, func.count().label("times"), func.min(log.c.occurred_at).label("first_at"), last_at)
        .where(about, log.c.outcome == "allowed")
        .group_by(*category)
        .order_by(last_at.desc(), log.c.actor_agency, log.c.action, log.c.resource_type)
    ).all()
    return [
        AccessRecipient(
            agency=row.actor_agency,
            agency_type=row.actor_agency_type,
            roles=row.actor_roles,
            action=row.action,
            resource_type=row.resource_type,
            times=row.times,
            first_at=row.first_at,
            last_at=row.last_at,
        )
        for row in rows
    ]


def recipients_of_child(
    session: Session, tables: AuditTables, child_ids: Collection[uuid.UUID]
) -> list[AccessRecipient]:
    """The categories of people who read or changed the records of ``child_ids`` (one
    child's record and any duplicates merged into it) in this service, refusals left out,
    most recent first."""
    if not child_ids:
        return []
    return _recipients(session, tables, tables.log.c.child_id.in_(list(child_ids)))


def recipients_of_record(
    session: Session, tables: AuditTables, resource_type: str, resource_id: uuid.UUID
) -> list[AccessRecipient]:
    """The same for one record that is not a child's (a person of concern's, say)."""
    log = tables.log
    return _recipients(
        session, tables, (log.c.resource_type == resource_type) & (log.c.resource_id == str(resource_id))
    )
