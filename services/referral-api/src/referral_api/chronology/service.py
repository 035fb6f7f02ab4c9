"""Reading a child's chronology: for those who may see the child (break-glass grants
count), newest first, audited as a read of the child."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import break_glass_notes, reads_intelligence
from referral_api.children import service as children_service
from referral_api.chronology.models import INTELLIGENCE_KINDS, ChronologyEntry
from referral_api.chronology.schemas import ChronologyEntryRead, ChronologyRecord
from referral_api.chronology.wording import record_of, summary
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate


def read_chronology(
    session: Session, principal: Principal, child_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[ChronologyEntry], str | None]:
    """The child's entries newest first (police intelligence only for those who may work
    intelligence); 404 for a child the caller may not see. The read is audited; commits."""
    child = children_service.get_child(session, principal, child_id, break_glass=True)
    entries = select(ChronologyEntry).where(ChronologyEntry.child_id == child.id)
    if not reads_intelligence(principal):
        entries = entries.where(ChronologyEntry.kind.not_in(INTELLIGENCE_KINDS))
    rows, next_cursor = paginate(
        session,
        entries,
        created_at=ChronologyEntry.occurred_at,
        id_column=ChronologyEntry.id,
        limit=limit,
        cursor=cursor,
    )
    note = break_glass_notes(session, principal, [child.id]).get(child.id)
    audit_trail.record(session, principal, "read", "chronology", child.id, child.id, detail=note)
    audit_trail.commit_read(session)
    return rows, next_cursor


def entry_body(entry: ChronologyEntry) -> ChronologyEntryRead:
    record_type, record_id, href = record_of(entry.kind, entry.details)
    return ChronologyEntryRead(
        id=entry.id,
        kind=entry.kind,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        source=entry.source,
        summary=summary(entry.kind, entry.details),
        record=ChronologyRecord(type=record_type, id=uuid.UUID(record_id), href=href),
        details=entry.details,
        event_id=entry.event_id,
    )
