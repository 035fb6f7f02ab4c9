"""The risk service's FastAPI app."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from risk_api.assessments.events import RiskAssessed, RiskLevelChanged
from risk_api.assessments.routes import router as assessments_router
from risk_api.assessments.service import (
    may_read_child,
    read_risks_ahead,
    record_agency_link,
    screening_for_referral,
)
from risk_api.break_glass import service as break_glass_service
from risk_api.database import AUDIT, EVENTS, IDEMPOTENCY
from risk_api.disposal import service as disposal_service
from risk_api.impact.routes import router as impact_router
from risk_api.risk_models.routes import router as risk_models_router
from risk_api.settings import RiskSettings
from risk_api.stats.routes import router as stats_router
from risk_api.subject_access.routes import router as subject_access_router
from safeguarding_kit.audit.routes import audit_router
from safeguarding_kit.events import ReadingAhead
from safeguarding_kit.retention.schedule import load_schedule
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.service_label import RISK_SERVICE
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.webhooks.published import PartnerEvents

DESCRIPTION = """\
The partnership's child exploitation tracker: versioned weighted-indicator risk
models, assessments, and each child's current risk and its history. It holds no
names: a child is an opaque id issued by the referral service.

Authenticate with `Authorization: Bearer <JWT>` from a trusted agency identity
provider. Every error is RFC 9457 `application/problem+json`.

**Scoring**: an indicator answered `present` adds its weight; `absent` and
`not_known` add nothing. Age modifiers add points for younger children. Bands have
their lower edge inclusive: score < `medium_from` is low, `medium_from` <= score <
`high_from` is medium, `high_from` and above is high. A hard trigger answered
`present` makes the child high whatever the total. A manager may set a different
final level with a reason; both levels are kept.

**Reviews** fall due 28 days after a high, 56 after a medium and 91 after a low
assessment (configurable); an initial assessment is due within 10 working days of
screening opening. Updates need `If-Match` with the ETag of your last read.

**Retries**: creating a risk model, a new version of one or a webhook endpoint honours
`Idempotency-Key` (a retry with the same key and body gets the first answer again; the
same key with another body is 422; while the first is still running, 409). Assessments,
overrides and the approval steps need `If-Match`, which a repeat no longer matches (412).

The default model shipped with the platform is a starting point: its thresholds
(medium from 8, high from 16) must be reviewed by each partnership.
"""


def create_app(settings: DatabaseSettings | None = None) -> FastAPI:
    """The app over the database the settings name (environment by default)."""
    settings = settings or RiskSettings()
    working_days = settings.initial_assessment_working_days if isinstance(settings, RiskSettings) else 10
    schedule_version = load_schedule(settings.retention_schedule_file).version
    return create_service_app(
        settings,
        events=EVENTS,
        idempotency=IDEMPOTENCY,
        audit=AUDIT,
        event_handlers={
            "referral.received": ReadingAhead(
                lambda session, event: screening_for_referral(session, event, working_days),
                read_risks_ahead,
            ),
            "child.agency_linked": record_agency_link,
            break_glass_service.EVENT_TYPE: break_glass_service.record_grant,
            disposal_service.EVENT_TYPE: lambda session, event: disposal_service.child_disposed(
                session, event, schedule_version
            ),
        },
        partner_audience=lambda session, principal, subject: may_read_child(
            session, principal, uuid.UUID(subject)
        ),
        partner_events=PartnerEvents(RISK_SERVICE, (RiskAssessed, RiskLevelChanged)),
        title="Risk API",
        version="0.2.0",
        description=DESCRIPTION,
        routers=[
            risk_models_router,
            impact_router,
            assessments_router,
            stats_router,
            subject_access_router,
            audit_router(
                AUDIT,
                service=RISK_SERVICE,
                access_log_path="/api/v1/risk/children/{child_id}/access-log",
                access_log_operation_id="getChildRiskAccessLog",
            ),
        ],
        openapi_tags=[
            {
                "name": "risk-models",
                "description": "Versioned weighted-indicator risk models and their impact.",
            },
            {"name": "assessments", "description": "Assessments, overrides, and each child's current risk."},
            {"name": "statistics", "description": "Figures for dashboards, small numbers suppressed."},
            {
                "name": "subject-access",
                "description": "Subject access requests (UK GDPR Art. 15): everything the partnership holds "
                "about a child or a person of concern, assembled across the services for information "
                "governance to review and release.",
            },
            {"name": "webhooks", "description": "Your agency's webhook endpoints and their deliveries."},
            {
                "name": "audit",
                "description": "Who read or changed a child's risk; the audit chain's integrity.",
            },
        ],
    )
