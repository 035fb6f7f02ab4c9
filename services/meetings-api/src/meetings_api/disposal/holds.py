"""Legal holds as the referral service announces them (``retention.hold_placed`` and
``retention.hold_released``): kept while they stand, so that this service's own retention
job leaves alone what a hold covers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from meetings_api.disposal.models import RetentionHold
from safeguarding_kit.retention.schedule import RecordClass

PLACED = "retention.hold_placed"
RELEASED = "retention.hold_released"
RECORD_CLASS = "record_class"
CHILD = "child"
PERSON_OF_CONCERN = "person_of_concern"
PLACE_OF_CONCERN = "place_of_concern"
ONE_RECORD = (CHILD, PERSON_OF_CONCERN, PLACE_OF_CONCERN)


def _uuid_or_none(value: object) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def hold_placed(session: Session, event: Mapping[str, Any]) -> None:
    """Remember a hold (once: the same hold announced again changes nothing). A hold on a
    record class names a class of the schedule; a hold on a child, person or place of
    concern names them.
    Data that says neither raises ``ValueError``/``KeyError`` (the inbox answers 422)."""
    data = event.get("data") or {}
    hold_id = uuid.UUID(str(data["hold_id"]))
    subject_type = str(data["subject_type"])
    if not subject_type or len(subject_type) > 40:
        raise ValueError("a hold's subject type is 1 to 40 characters")
    subject_id = _uuid_or_none(data.get("subject_id"))
    record_class = RecordClass(str(data["record_class"])) if data.get("record_class") is not None else None
    if subject_type == RECORD_CLASS and record_class is None:
        raise ValueError("a hold on a record class names the class")
    if subject_type in ONE_RECORD and subject_id is None:
        raise ValueError("a hold on one record names it")
    if session.get(RetentionHold, hold_id) is not None:
        return
    session.add(
        RetentionHold(
            hold_id=hold_id,
            subject_type=subject_type,
            subject_id=subject_id,
            record_class=record_class.value if record_class is not None else None,
        )
    )
    session.flush()


def hold_released(session: Session, event: Mapping[str, Any]) -> None:
    """Forget a hold (a hold this service never heard of is nothing to forget)."""
    data = event.get("data") or {}
    hold_id = uuid.UUID(str(data["hold_id"]))
    session.execute(delete(RetentionHold).where(RetentionHold.hold_id == hold_id))


@dataclass(frozen=True)
class Holds:
    """The holds standing now, as the retention job asks of them."""

    classes: frozenset[str]
    children: frozenset[uuid.UUID]
    # Persons and places of concern: the subjects of CETG and mapping items.
    concerns: frozenset[uuid.UUID]

    def holds_class(self, record_class: RecordClass) -> bool:
        return record_class.value in self.classes


def holds_in_force(session: Session) -> Holds:
    """Every hold standing now: on record classes, children, persons and places of concern."""
    rows = session.execute(
        select(RetentionHold.subject_type, RetentionHold.subject_id, RetentionHold.record_class)
    ).all()
    return Holds(
        classes=frozenset(r.record_class for r in rows if r.subject_type == RECORD_CLASS and r.record_class),
        children=frozenset(r.subject_id for r in rows if r.subject_type == CHILD and r.subject_id),
        concerns=frozenset(
            r.subject_id
            for r in rows
            if r.subject_type in (PERSON_OF_CONCERN, PLACE_OF_CONCERN) and r.subject_id
        ),
    )
