"""What a service holding data about a child hears when the referral service disposes of
the child's record (``child.disposed``): the event's data checked, the actor its audit
record names, and the disposal records it writes (one per record class that went)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.retention.records import record_disposal
from safeguarding_kit.retention.schedule import RecordClass

CHILD_DISPOSED = "child.disposed"
# The disposal record's rule where a service follows the referral service's decision.
WITH_THE_CHILDS_RECORD = "with the child's record (child.disposed)"

# The audit trail's actor for what an event did: the platform, acting on the referral
# service's word, with no role of its own.
EVENTS_ACTOR = Principal(sub="system:events", agency="platform", agency_type=AgencyType.social_care)


@dataclass(frozen=True)
class ChildDisposalNotice:
    """What a ``child.disposed`` event says, checked."""

    event_id: str
    child_id: uuid.UUID
    record_classes: tuple[RecordClass, ...]
    schedule_version: str | None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ChildDisposalNotice:
        """The event's data, or ``ValueError``/``KeyError`` for data that is not a
        disposal (the inbox answers 422 and applies nothing)."""
        data = event.get("data") or {}
        classes = data["record_classes"]
        if not isinstance(classes, list) or not classes:
            raise ValueError("a disposal names the record classes that went")
        version = data.get("schedule_version")
        return cls(
            event_id=str(event.get("id", "")),
            child_id=uuid.UUID(str(data["child_id"])),
            record_classes=tuple(dict.fromkeys(RecordClass(str(c)) for c in classes)),
            schedule_version=str(version)[:40] if version else None,
        )

    def record(self, session: Session, disposals: Table, *, schedule_version: str, at: datetime) -> None:
        """One disposal record per record class that went, in the session's transaction
        (``schedule_version``: this service's, for an event that names none)."""
        for record_class in self.record_classes:
            record_disposal(
                session,
                disposals,
                record_class=record_class.value,
                rule=WITH_THE_CHILDS_RECORD,
                subject_type="child",
                subject_id=self.child_id,
                cause=CHILD_DISPOSED,
                schedule_version=self.schedule_version or schedule_version,
                at=at,
            )
