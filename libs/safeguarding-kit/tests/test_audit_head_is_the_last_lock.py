"""The audit chain's head is the last lock a transaction takes
(:mod:`safeguarding_kit.audit.service`): a change's writes, its events and the rows its
read models keep from them, and the locks their foreign keys take, are all had before its
audit record takes the head. A change that took the head first and then waited on a
child's row (locked by a legal hold or a disposal of that child) would deadlock with the
hold, which waits on the head for its own record. On PostgreSQL (SQLite has one write
lock, not row locks); skipped on SQLite."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ForeignKey, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from safeguarding_kit.audit.models import audit_tables
from safeguarding_kit.audit.service import AuditTrail, verify_chain
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import Database, service_metadata
from safeguarding_kit.events import EventTables, Outbox, event_tables
from safeguarding_kit.new_rows import insert_new
from safeguarding_kit.throwaway_database import provisioned_database

WORKER = Principal(
    sub="tom.hartley@sheffield.gov.example",
    agency="sheffield-social-care",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.practitioner}),
)


class Base(DeclarativeBase):
    metadata = service_metadata()


class Child(Base):
    __tablename__ = "children"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class ChronologyEntry(Base):
    """A read model's row, kept from the service's own events, naming its child."""

    __tablename__ = "chronology_entries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))


AUDIT = audit_tables(Base.metadata)
EVENTS: EventTables = event_tables(Base.metadata)


def keep_chronology(session: Session, event: dict[str, Any]) -> None:
    insert_new(session, [ChronologyEntry(child_id=uuid.UUID(event["data"]["child_id"]))])


@dataclass
class Service:
    database: Database
    trail: AuditTrail
    outbox: Outbox
    child: uuid.UUID


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with provisioned_database("audit-last-lock", tmp_path) as url:
        database = Database(url)
        if database.engine.dialect.name != "postgresql":
            database.dispose()
            pytest.skip("SQLite has one write lock, not row locks")
        Base.metadata.create_all(database.engine)
        trail = AuditTrail(AUDIT)
        child = uuid.uuid4()
        with database.sessions() as session:
            session.add(Child(id=child))
            trail.record(session, WORKER, "create", "child", child, child)  # the chain's first record
            session.commit()
        outbox = Outbox(EVENTS, [], "referral-api", projections={"child.noted": keep_chronology})
        yield Service(database, trail, outbox, child)
        database.dispose()


def someone_waits_on_a_row_lock(database: Database, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database.engine.connect() as connection:
            waiting = connection.scalar(
                select(func.count())
                .select_from(text("pg_stat_activity"))
                .where(text("wait_event_type = 'Lock' AND datname = current_database()"))
            )
        if waiting:
            return True
        time.sleep(0.05)
    return False


def test_a_change_about_a_child_held_up_by_a_legal_hold_on_it_does_not_deadlock_with_the_hold(
    service: Service,
) -> None:
    child = service.child

    def note_about_the_child() -> None:
        # A change whose chronology entry names the child: its foreign key waits on the hold.
        with service.database.sessions() as session:
            service.trail.record(session, WORKER, "update", "child", child, child)
            service.outbox.emit(session, "child.noted", str(child), {"child_id": str(child)})
            session.commit()

    # The hold's session closes (releasing its lock) before the pool waits for the change.
    with ThreadPoolExecutor(1) as pool, service.database.sessions() as hold:
        # A legal hold (or a disposal) locks the child's row until it commits.
        hold.execute(select(Child.id).where(Child.id == child).with_for_update())
        noted = pool.submit(note_about_the_child)
        assert someone_waits_on_a_row_lock(service.database), "the change should wait on the hold"
        # The hold's own record takes the head: the waiting change must not be holding it.
        service.trail.record(hold, WORKER, "hold", "child", child, child)
        hold.commit()
        noted.result(timeout=30)

    with service.database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ChronologyEntry)) == 1
        verified = verify_chain(session, AUDIT)
    assert verified.ok
    assert verified.checked == 3
