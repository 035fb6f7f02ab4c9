"""The meetings service's FastAPI app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi import FastAPI

from meetings_api.actions.events import ActionOverdue
from meetings_api.actions.routes import router as actions_router
from meetings_api.actions.service import partner_may_hear_of
from meetings_api.actions.sweeper import overdue_sweeper
from meetings_api.agendas.routes import router as agendas_router
from meetings_api.agendas.service import child_became_high
from meetings_api.calendar_feeds.routes import router as calendar_feeds_router
from meetings_api.database import AUDIT, EVENTS, IDEMPOTENCY
from meetings_api.disposal import holds as retention_holds
from meetings_api.disposal import service as disposal_service
from meetings_api.disposal.job import minutes_disposal
from meetings_api.occurrences.routes import router as occurrences_router
from meetings_api.series.routes import router as series_router
from meetings_api.settings import MeetingsSettings
from meetings_api.stats.routes import router as stats_router
from meetings_api.subject_access.routes import router as subject_access_router
from safeguarding_kit.audit.routes import audit_router
from safeguarding_kit.retention.schedule import load_schedule
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.service_label import MEETINGS_SERVICE
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.webhooks.published import PartnerEvents

DESCRIPTION = """\
Multi-agency meetings that manage exploitation risk: MACE (weekly, chaired by
social care), CETG (police-led, on perpetrators and places), missing and mapping
meetings. No child's name is held here: children are opaque ids issued by the
referral service.

**Scheduling**: a series has an RFC 5545 rule applied in Europe/London wall-clock
time (a 10:00 meeting stays at 10:00 when the clocks change). Meetings are generated
on demand (`listOccurrences`); one falling on an England and Wales bank holiday is
flagged and kept, skipped or moved to the next working day as the series says.
Moves and cancellations apply to this meeting, this and following, or all upcoming.

**Retries**: every operation that creates a record (a series, an agenda item, a
decision, an action, a webhook endpoint) honours `Idempotency-Key`: a retry with the same
key and body gets the first answer again; the same key with another body is 422; while
the first is still running, 409. Moves, cancellations and `held` need `If-Match`, which a
repeat no longer matches (412); attendance is replaced whole and the agenda rebuilt, so
repeating either changes nothing.

**Agendas** are built from the risk and referral services with the builder's own
token; rebuilding keeps hand-made items, order changes and minutes. Actions are
carried forward until done. `getSeriesCalendar` gives an ICS feed with no names.

**Calendar subscriptions**: calendar apps cannot send a bearer token, so
`createCalendarFeed` issues a feed address holding a secret token (shown once, stored
only as a hash) that `readCalendarFeed` serves without one: the one operation here that
takes no bearer token. Each read is audited under the feed owner's name and checked
again against the policy and the partnership agreement as they are now; a revoked,
expired or unknown address, or one whose owner may no longer see meeting series, is 404.

Authenticate with `Authorization: Bearer <JWT>` (except `readCalendarFeed`). Updates
need `If-Match` with the ETag of your last read. Every error is RFC 9457 `application/problem+json`.
"""

TAGS = [
    {"name": "meeting-series", "description": "Recurring meetings, their occurrences and calendar feed."},
    {"name": "calendar-feeds", "description": "Calendar subscription addresses: create, list, revoke, read."},
    {"name": "meetings", "description": "One meeting: moves, cancellations, attendance and quorum."},
    {"name": "agendas", "description": "Agendas, minutes, decisions and actions."},
    {"name": "statistics", "description": "Figures for dashboards, small numbers suppressed."},
    {
        "name": "subject-access",
        "description": "Subject access requests (UK GDPR Art. 15): everything the partnership holds "
        "about a child or a person of concern, assembled across the services for information "
        "governance to review and release.",
    },
    {"name": "webhooks", "description": "Your agency's webhook endpoints and their deliveries."},
    {"name": "audit", "description": "Who read or changed meeting records about a child."},
]


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    settings = settings or MeetingsSettings()
    timeout = settings.upstream_timeout_seconds if isinstance(settings, MeetingsSettings) else 5.0

    sweep_every = settings.overdue_sweep_seconds if isinstance(settings, MeetingsSettings) else 0.0
    schedule = load_schedule(settings.retention_schedule_file)
    dispose_every = settings.disposal_interval_seconds

    @contextmanager
    def services_client(app: FastAPI) -> Iterator[None]:
        with overdue_sweeper(app, sweep_every), minutes_disposal(app, dispose_every, schedule):
            # One client per process for the risk and referral services, unless a test gave one.
            if getattr(app.state, "services_client", None) is not None:
                yield
                return
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                app.state.services_client = client
                yield

    return create_service_app(
        settings,
        title="Meetings API",
        version="0.2.0",
        description=DESCRIPTION,
        routers=[
            series_router,
            calendar_feeds_router,
            occurrences_router,
            agendas_router,
            actions_router,
            stats_router,
            subject_access_router,
            audit_router(
                AUDIT,
                service=MEETINGS_SERVICE,
                access_log_path="/api/v1/meetings/children/{child_id}/access-log",
                access_log_operation_id="getChildMeetingsAccessLog",
            ),
        ],
        openapi_tags=TAGS,
        resources=services_client,
        events=EVENTS,
        idempotency=IDEMPOTENCY,
        audit=AUDIT,
        event_handlers={
            "risk.level_changed": child_became_high,
            disposal_service.EVENT_TYPE: lambda session, event: disposal_service.child_disposed(
                session, event, schedule.version
            ),
            retention_holds.PLACED: retention_holds.hold_placed,
            retention_holds.RELEASED: retention_holds.hold_released,
        },
        partner_audience=partner_may_hear_of,
        partner_events=PartnerEvents(MEETINGS_SERVICE, (ActionOverdue,)),
    )
