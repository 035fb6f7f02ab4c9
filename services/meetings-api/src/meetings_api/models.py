"""Every table of the meetings service, imported so the metadata is complete."""

from meetings_api.actions.models import Action
from meetings_api.agendas.models import AgendaItem, Decision
from meetings_api.calendar_feeds.models import CalendarFeed
from meetings_api.database import AUDIT, DISPOSALS, EVENTS, IDEMPOTENCY, Base
from meetings_api.disposal.models import RetentionHold
from meetings_api.occurrences.models import Attendance, Occurrence
from meetings_api.series.models import MeetingSeries

__all__ = [
    "AUDIT",
    "DISPOSALS",
    "EVENTS",
    "IDEMPOTENCY",
    "Action",
    "AgendaItem",
    "Attendance",
    "Base",
    "CalendarFeed",
    "Decision",
    "MeetingSeries",
    "Occurrence",
    "RetentionHold",
]
