"""The referral service's FastAPI app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from fastapi import FastAPI

from referral_api.break_glass.events import BreakGlassGranted
from referral_api.break_glass.routes import router as break_glass_router
from referral_api.children.events import ChildMerged
from referral_api.children.routes import router as children_router
from referral_api.children.service import partner_may_see
from referral_api.chronology import projection as chronology
from referral_api.chronology.routes import router as chronology_router
from referral_api.concerns.routes import persons_router, places_router
from referral_api.database import AUDIT, EVENTS, IDEMPOTENCY
from referral_api.disruption.events import DisruptionRecorded
from referral_api.disruption.routes import router as disruption_router
from referral_api.missing_episodes.events import MissingEpisodeFound, MissingEpisodeReported
from referral_api.missing_episodes.routes import router as missing_episodes_router
from referral_api.referrals.events import ReferralReceived, ReferralStatusChanged
from referral_api.referrals.routes import router as referrals_router
from referral_api.retention.job import disposal_job
from referral_api.retention.routes import router as retention_router
from referral_api.settings import DEFAULT_BREAK_GLASS_HOURS, ReferralSettings
from referral_api.stats.routes import router as stats_router
from referral_api.subject_access.routes import router as subject_access_router
from referral_api.subject_access.upstream import upstream_services
from referral_api.support import risk_levels
from referral_api.support.events import SupportEnded, SupportOffered, SupportStarted
from referral_api.support.routes import router as support_router
from referral_api.third_party.routes import router as third_party_router
from safeguarding_kit.audit.routes import audit_router
from safeguarding_kit.events import combined_handlers
from safeguarding_kit.partnership.routes import partnership_router
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.service_label import REFERRAL_SERVICE
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.webhooks.published import PartnerEvents

DESCRIPTION = """\
Referrals about children at risk of sexual or criminal exploitation, sent by partner
agencies' systems. This is the only service that holds children's names, dates of
birth and identifiers; the other services know a child only by the opaque `child_id`
issued here.

**Authentication**: `Authorization: Bearer <JWT>` from a trusted agency identity
provider, with the claims `agency`, `agency_type` and `roles`.

**Who sees what** follows the partnership's information sharing agreement
(`GET /api/v1/partnership`): a permission is a person's role (from the token) and
their agency's capacity (from the agreement). Case workers (practitioner, manager,
risk_assessor, meeting_coordinator) of agencies granted `all_cases` (the hub's own
teams) read every case; case workers of other agencies read the cases of children
their agency is linked to by a referral it sent or a case allocated to it; referrers
read back only what their own agency sent. A record you may not see answers 404,
exactly as one that does not exist. Every read and write of a child's record is
audited. Each operation's description says which role and capacity it needs.

**Break-glass** is the one exception: in an emergency a case worker may open a child
their agency is not linked to, with a written reason, to read, for a bounded time
(`BREAK_GLASS_HOURS`, 24 by default); every read under it is audited with the reason,
and the agencies granted `audits` are told (`access.break_glass`) and review the grants.
The same event opens the child's risk in the risk service to the same person, to read.

**Retries**: every operation that creates a record honours `Idempotency-Key` (declared
on each): a retry with the same key and body gets the first answer again and changes
nothing; the same key with another body is 422; while the first is still running, 409
with `Retry-After`. Keys are your agency's own. A referral's own `source_reference`
(unique per agency) is a key too. Operations without the header say in their 503 answer
why a repeat is safe (most need `If-Match`, which a repeat no longer matches).

**Updates** need `If-Match` with the `ETag` from your last read: 428 without it, 412
when someone changed the record since.

**Errors** are RFC 9457 `application/problem+json`; validation errors list each bad
field by JSON pointer in `errors`.
"""

# What partner systems may subscribe to; each carries ids and types, never names.
PARTNER_EVENTS = PartnerEvents(
    REFERRAL_SERVICE,
    (
        ReferralReceived,
        ReferralStatusChanged,
        ChildMerged,
        MissingEpisodeReported,
        MissingEpisodeFound,
        SupportOffered,
        SupportStarted,
        SupportEnded,
        # Only to the webhooks of agencies the agreement grants `audits`, whatever they may see.
        BreakGlassGranted,
        # Only to the webhooks of agencies the agreement grants `intelligence`; ids and kinds.
        DisruptionRecorded,
    ),
)

TAGS = [
    {"name": "referrals", "description": "Referrals from partner agencies and their workflow."},
    {"name": "children", "description": "Children's records: the only place names and identifiers live."},
    {"name": "third-party-information", "description": "Information from professionals without case access."},
    {
        "name": "missing-episodes",
        "description": "Children reported missing, when they are found, and the return-home interview "
        "each is offered within 72 hours.",
    },
    {
        "name": "concerns",
        "description": "Persons and places of concern (alleged perpetrators, hotels, takeaways, parks) "
        "and their links to children, for the intelligence leads.",
    },
    {
        "name": "support",
        "description": "Support for a child (interventions): offered by the hub to a service or agency "
        "of the partnership, its waiting time, contacts, engagement, end, and the child's risk level "
        "at its start and end.",
    },
    {
        "name": "disruption",
        "description": "Disruption actions against persons and places of concern (child abduction warning "
        "notices, arrests, charges, convictions, civil orders, closures, licence reviews and revocations), "
        "with the children each protects by id, for the intelligence leads; the partnership's vocabulary "
        "of kinds.",
    },
    {"name": "statistics", "description": "Referral, timeliness and place figures; small ones suppressed."},
    {
        "name": "partnership",
        "description": "The information sharing agreement in force: agencies and their capacities.",
    },
    {
        "name": "break-glass",
        "description": "Emergency access to an unlinked child's record, and its review by auditors.",
    },
    {
        "name": "retention",
        "description": "The retention schedule in force, legal holds, and disposal of records past "
        "retention (information governance auditors).",
    },
    {
        "name": "subject-access",
        "description": "Subject access requests (UK GDPR Art. 15): everything the partnership holds "
        "about a child or a person of concern, assembled across the services for information "
        "governance to review and release.",
    },
    {"name": "webhooks", "description": "Your agency's webhook endpoints and their deliveries."},
    {
        "name": "audit",
        "description": "Who read or changed a child's record, and the audit chain's integrity.",
    },
]


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    settings = settings or ReferralSettings()

    @contextmanager
    def resources(app: FastAPI) -> Iterator[None]:
        # The disposal job, and one HTTP client to the risk and meetings services for
        # assembling subject access packages.
        with (
            disposal_job(app, settings.retention_schedule_file, settings.disposal_interval_seconds),
            upstream_services(app, settings),
        ):
            yield

    app = create_service_app(
        settings,
        title="Referral API",
        version="0.2.0",
        description=DESCRIPTION,
        routers=[
            referrals_router,
            children_router,
            chronology_router,
            break_glass_router,
            third_party_router,
            missing_episodes_router,
            support_router,
            persons_router,
            places_router,
            disruption_router,
            stats_router,
            retention_router,
            subject_access_router,
            partnership_router(),
            audit_router(
                AUDIT,
                service=REFERRAL_SERVICE,
                access_log_path="/api/v1/children/{child_id}/access-log",
                access_log_operation_id="getChildAccessLog",
            ),
        ],
        openapi_tags=TAGS,
        resources=resources,
        events=EVENTS,
        # The risk service's assessments, for each support's risk level at its start and end;
        # the risk and meetings services' steps, for each child's chronology.
        event_handlers=combined_handlers(
            {risk_levels.EVENT_TYPE: risk_levels.record_risk_assessed}, chronology.OTHER_SERVICES_EVENTS
        ),
        projections=chronology.OWN_EVENTS,
        partner_audience=partner_may_see,
        partner_events=PARTNER_EVENTS,
        idempotency=IDEMPOTENCY,
        audit=AUDIT,
    )
    hours = (
        settings.break_glass_hours if isinstance(settings, ReferralSettings) else DEFAULT_BREAK_GLASS_HOURS
    )
    app.state.break_glass_window = timedelta(hours=hours)
    return app
