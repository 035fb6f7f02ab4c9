"""Loading referrals from the partnership's earlier system (e.g. its spreadsheet tracker)
with their original received, decided and closed times and outcomes, so that figures
of the years before the platform can be reproduced.

A migrated referral is marked ``migrated``; its history is written with the original
times and the data administrator as actor, each step's reason saying "migrated"; the
load is audited. It announces no ``referral.*`` event: a referral received years ago
must not open a screening in the risk service or reach partners' webhooks as new. The
child is linked to the source agency (and to an allocated agency) as a live referral
would link them, which the risk service hears as ``child.agency_linked`` (access, not
a screening).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.children import service as children_service
from referral_api.children.models import LinkReason
from referral_api.children.schemas import OLDEST_AGE_YEARS
from referral_api.database import IDEMPOTENCY
from referral_api.referrals.models import Referral, ReferralEvent, ReferralStatus
from referral_api.referrals.schemas import MigratedOutcome, MigratedReferralCreate, Referrer
from referral_api.referrals.service import (
    Submission,
    check_partner_agency,
    check_partnership_service,
    flush_new_referral,
    new_referral,
    resolve_child,
    to_read,
)
from referral_api.stats.dimensions import age_on, reporting_day
from safeguarding_kit.auth.principal import AgencyType, Principal
from safeguarding_kit.events import Outbox
from safeguarding_kit.idempotency import (
    IdempotencyKeyReused,
    agency_scope,
    request_fingerprint,
    run_once,
)
from safeguarding_kit.partnership.agreement import Agreement, UnknownAgency
from safeguarding_kit.problems import FieldError, Problem

MIGRATION_SCOPE = "POST /api/v1/referrals/migrated"
NOT_RECORDED = "Not recorded in the source system"


class SourceReferenceReused(Problem):
    """A historic referral whose source reference was already loaded with a different
    body; nothing was changed (the same body again is accepted as a retry)."""

    status, slug, title = 422, "source-reference-reused", "Source reference already loaded with another body"


class ChildTooOldAtReferral(Problem):
    """A historic referral whose child was older than the partnership works with (25) when
    it was received."""

    status, slug, title = 422, "child-too-old-at-referral", "The person was over 25 when referred"


def migrate_referral(
    session: Session,
    principal: Principal,
    body: MigratedReferralCreate,
    outbox: Outbox,
    *,
    agreement: Agreement,
) -> Submission:
    """Load one historic referral, safe to repeat: the same ``source_reference`` of the
    same source agency with the same body gets the first answer again; with another body
    it is 422 and nothing changes. The referral counts under the source agency's type
    (from the ``agreement``) by its original dates."""
    source = agreement.agency(body.source_agency)
    if source is None:
        raise UnknownAgency(
            f"'{body.source_agency}' is not an agency of the partnership agreement "
            "(GET /api/v1/partnership lists them).",
            errors=[
                FieldError(detail="not an agency of the partnership agreement", pointer="#/source_agency")
            ],
        )
    if body.allocated_agency is not None:
        check_partner_agency(agreement, body.allocated_agency, "#/allocated_agency")
    if body.signposted_to is not None:
        check_partnership_service(agreement, body.signposted_to, "#/signposted_to")

    request_hash = request_fingerprint(body.model_dump(mode="json"))
    # The kit's one retry mechanism, keyed by the source system's reference per source agency.
    try:
        return run_once(
            session,
            IDEMPOTENCY,
            scope=agency_scope(body.source_agency, MIGRATION_SCOPE),
            key=f"source-reference:{body.source_reference}",
            fingerprint=request_hash,
            work=lambda: _load(session, principal, body, source.type, request_hash, outbox),
        )
    except IdempotencyKeyReused as exc:
        raise SourceReferenceReused(
            f"Source reference '{body.source_reference}' of '{body.source_agency}' was already loaded "
            "with a different body; nothing was changed.",
            errors=[FieldError(detail="already loaded with a different body", pointer="#/source_reference")],
        ) from exc


def _load(
    session: Session,
    principal: Principal,
    body: MigratedReferralCreate,
    source_type: AgencyType,
    request_hash: str,
    outbox: Outbox,
) -> Submission:
    registration = resolve_child(session, principal, body.child, body.child_id)
    if registration.created:
        session.add(registration.child)
    child_id, born = registration.child.id, registration.child.date_of_birth
    if body.child_id is not None:  # details were checked in the body; a known child here
        age = age_on(reporting_day(body.received_at), born)
        if not 0 <= age <= OLDEST_AGE_YEARS:
            raise ChildTooOldAtReferral(
                f"This child was {age} when the referral was received; "
                f"the partnership's referrals are of people up to {OLDEST_AGE_YEARS}.",
                errors=[FieldError(detail="not 0 to 25 at received_at", pointer="#/child_id")],
            )
    referral = new_referral(
        child_id=child_id,
        born=born,
        agency=body.source_agency,
        agency_type=source_type,
        submitted_by=principal.sub,
        source_reference=body.source_reference,
        request_hash=request_hash,
        referrer=body.referrer or Referrer(name=NOT_RECORDED, role=NOT_RECORDED),
        summary=body.summary,
        lawful_basis=body.lawful_basis,
        urgency=body.urgency,
        concern_types=body.concern_types,
        received_at=body.received_at,
    )
    referral.migrated = True
    referral.first_contact_at = body.first_contact_at
    session.add(referral)
    session.add_all(_history(referral, body, principal))
    flush_new_referral(session, referral)
    children_service.link_agency(session, child_id, referral.agency, LinkReason.referral, outbox)
    if referral.allocated_agency is not None:
        children_service.link_agency(
            session, child_id, referral.allocated_agency, LinkReason.allocation, outbox
        )
    audit_trail.record(
        session,
        principal,
        "migrate",
        "referral",
        referral.id,
        child_id,
        detail=audit_trail.detail(f"migrated: {body.source_agency} reference {body.source_reference}"),
    )
    return Submission(201, to_read(session, referral).model_dump(mode="json"))


def _history(referral: Referral, body: MigratedReferralCreate, principal: Principal) -> list[ReferralEvent]:
    """The referral's steps at their original times, the administrator as actor; sets the
    referral's status and decision to match."""

    def step(
        from_status: ReferralStatus | None, to_status: ReferralStatus, reason: str, at: datetime
    ) -> ReferralEvent:
        return ReferralEvent(
            id=uuid.uuid4(),
            referral_id=referral.id,
            from_status=from_status,
            to_status=to_status,
            actor_sub=principal.sub,
            actor_agency=principal.agency,
            reason=f"migrated from the source system ({body.source_reference}): {reason}",
            occurred_at=at,
        )

    events = [step(None, ReferralStatus.received, f"received from {body.source_agency}", body.received_at)]
    if body.outcome is None:
        return events
    assert body.decided_at is not None  # the body's rule: an outcome comes with its time
    decision = ReferralStatus(body.outcome.value)
    referral.status = decision
    referral.decided_at = body.decided_at
    if body.outcome is MigratedOutcome.allocated:
        referral.allocated_team = body.allocated_team
        referral.allocated_worker = body.allocated_worker
        referral.allocated_agency = body.allocated_agency
    if body.outcome is MigratedOutcome.signposted:
        referral.signposted_to = body.signposted_to
    events.append(
        step(
            ReferralStatus.received,
            decision,
            body.decision_reason or f"{decision.value} in the source system",
            body.decided_at,
        )
    )
    if body.closed_at is not None:
        referral.status = ReferralStatus.closed
        events.append(
            step(
                decision,
                ReferralStatus.closed,
                body.closure_reason or "closed in the source system",
                body.closed_at,
            )
        )
    return events
