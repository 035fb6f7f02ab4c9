"""The referral service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from referral_api.children.routes import router as children_router
from referral_api.children.service import partner_may_see
from referral_api.concerns.routes import persons_router, places_router
from referral_api.database import AUDIT, EVENTS
from referral_api.missing_episodes.routes import router as missing_episodes_router
from referral_api.referrals.routes import router as referrals_router
from referral_api.settings import ReferralSettings
from referral_api.stats.routes import router as stats_router
from referral_api.third_party.routes import router as third_party_router
from safeguarding_kit.audit_routes import audit_router
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.webhooks import webhooks_router

DESCRIPTION = """\
Referrals about children at risk of sexual or criminal exploitation, sent by partner
agencies' systems. This is the only service that holds children's names, dates of
birth and identifiers; the other services know a child only by the opaque `child_id`
issued here.

**Authentication**: `Authorization: Bearer <JWT>` from a trusted agency identity
provider, with the claims `agency`, `agency_type` and `roles`.

**Who sees what**: case workers (practitioner, manager, risk_assessor,
meeting_coordinator) of the statutory partners (social care, police, health) read
every case; case workers of other agencies read the cases of children their agency
is linked to by a referral it sent or a case allocated to it; referrers read back
only what their own agency sent. A record you may not see answers 404, exactly as
one that does not exist. Every read and write of a child's record is audited.

**Retries**: `POST /api/v1/referrals` honours `Idempotency-Key` and your own
`source_reference` (unique per agency): a retry gets the first answer again.

**Updates** need `If-Match` with the `ETag` from your last read: 428 without it, 412
when someone changed the record since.

**Errors** are RFC 9457 `application/problem+json`; validation errors list each bad
field by JSON pointer in `errors`.
"""

# What partner systems may subscribe to; each carries ids and types, never names.
PARTNER_EVENT_TYPES = [
    "referral.received",
    "referral.status_changed",
    "child.merged",
    "missing_episode.reported",
    "missing_episode.found",
]

TAGS = [
    {"name": "referrals", "description": "Referrals from partner agencies and their workflow."},
    {"name": "children", "description": "Children's records: the only place names and identifiers live."},
    {"name": "third-party-information", "description": "Information from professionals without case access."},
    {"name": "webhooks", "description": "Your agency's webhook endpoints and their deliveries."},
    {
        "name": "audit",
        "description": "Who read or changed a child's record, and the audit chain's integrity.",
    },
]


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    return create_service_app(
        settings or ReferralSettings(),
        title="Referral API",
        version="0.2.0",
        description=DESCRIPTION,
        routers=[
            referrals_router,
            children_router,
            third_party_router,
            missing_episodes_router,
            persons_router,
            places_router,
            stats_router,
            webhooks_router(
                EVENTS,
                path="/api/v1/webhooks/referral-service",
                partner_event_types=PARTNER_EVENT_TYPES,
                tag="webhooks",
            ),
            audit_router(
                AUDIT,
                access_log_path="/api/v1/children/{child_id}/access-log",
                verification_path="/api/v1/audit/referral-service/verification",
                operation_prefix="Child",
            ),
        ],
        openapi_tags=TAGS,
        events=EVENTS,
        partner_audience=partner_may_see,
    )
