"""The chronology table: one row per step of a child's life on the platform, kept from an
event (ids, kinds, levels and dates; never a name or free text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class ChronologyKind(StrEnum):
    """What a chronology entry records."""

    referral_received = "referral_received"
    referral_status_changed = "referral_status_changed"
    missing_reported = "missing_reported"
    missing_found = "missing_found"
    return_home_interview = "return_home_interview"
    risk_assessed = "risk_assessed"
    risk_level_changed = "risk_level_changed"
    meeting_decision = "meeting_decision"
    meeting_action_agreed = "meeting_action_agreed"
    meeting_action_closed = "meeting_action_closed"
    meeting_action_reopened = "meeting_action_reopened"
    support_offered = "support_offered"
    support_started = "support_started"
    support_ended = "support_ended"
    disruption_recorded = "disruption_recorded"


# Police intelligence: shown only to those who may work intelligence.
INTELLIGENCE_KINDS = frozenset({ChronologyKind.disruption_recorded})


class ChronologyEntry(Base):
    """One step: when it happened (as its record says: a missing episode reported late is
    placed when the child went missing), when the platform heard of it, which service told,
    and the event it was kept from. An entry about a disruption action goes with the action
    (disposing of a person of concern takes it out of every linked child's chronology)."""

    __tablename__ = "chronology_entries"
    __table_args__ = (Index("ix_chronology_entries_child_id_occurred_at", "child_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChronologyKind] = mapped_column(enum_column(ChronologyKind, "chronology_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disruption_action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("disruption_actions.id"), index=True
    )
