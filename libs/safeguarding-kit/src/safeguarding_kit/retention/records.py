"""The disposal record each service keeps: what class of record went, under which rule,
when and why — never its content. A record's opaque id is kept so the partnership can
show a child's records went from every service; it resolves to no one afterwards."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, MetaData, String, Table, Uuid, insert
from sqlalchemy.orm import Session

from safeguarding_kit.db import UtcDateTime, utc_now

DISPOSALS_TABLE = "disposals"


def disposal_table(metadata: MetaData) -> Table:
    """The disposal records, on the service's own metadata (and so in its migrations)."""
    return Table(
        DISPOSALS_TABLE,
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("record_class", String(40), nullable=False, index=True),
        Column("rule", String(120), nullable=False),
        Column("subject_type", String(40), nullable=False),
        Column("subject_id", Uuid, nullable=False, index=True),
        # "retention" (this service's job) or the event that told it (e.g. "child.disposed").
        Column("cause", String(40), nullable=False),
        Column("schedule_version", String(40), nullable=False),
        Column("disposed_at", UtcDateTime, nullable=False, index=True),
    )


def record_disposal(
    session: Session,
    table: Table,
    *,
    record_class: str,
    rule: str,
    subject_type: str,
    subject_id: uuid.UUID,
    cause: str,
    schedule_version: str,
    at: datetime | None = None,
) -> None:
    """Write one disposal record in the session's transaction (with the disposal itself)."""
    session.execute(
        insert(table).values(
            id=uuid.uuid4(),
            record_class=record_class,
            rule=rule,
            subject_type=subject_type,
            subject_id=subject_id,
            cause=cause,
            schedule_version=schedule_version,
            disposed_at=at or utc_now(),
        )
    )
