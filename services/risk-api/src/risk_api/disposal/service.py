"""Disposing of a child's risk record when the referral service tells us the child's record
went (``child.disposed``): the facts the risk figures read are kept apart, de-identified;
everything else held about the child id goes; a disposal record and an audit record say
that it happened (never what it held)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from risk_api import audit_trail
from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildAgencyLink, ChildRisk
from risk_api.break_glass.models import BreakGlassGrant
from risk_api.database import DISPOSALS, EVENTS, IDEMPOTENCY
from risk_api.disposal.models import DisposedAssessmentFact
from safeguarding_kit.db import utc_now
from safeguarding_kit.idempotency import forget_answers_for
from safeguarding_kit.retention.notices import CHILD_DISPOSED, EVENTS_ACTOR, ChildDisposalNotice

EVENT_TYPE = CHILD_DISPOSED


@dataclass(frozen=True)
class RiskDisposal:
    """What went of one child's risk record (counts only)."""

    assessments: int
    facts_kept: int
    agency_links: int
    break_glass_grants: int
    outbox_events: int
    risk_record: bool

    @property
    def anything(self) -> bool:
        return bool(
            self.assessments
            or self.agency_links
            or self.break_glass_grants
            or self.outbox_events
            or self.risk_record
        )


def _keep_facts(session: Session, child_id: uuid.UUID, stats_key: int) -> int:
    """Copy what the figures read of the child's assessments under a new random subject
    key; the number of facts kept."""
    rows = session.execute(
        select(
            Assessment.assessed_at, Assessment.computed_level, Assessment.final_level, Assessment.override_at
        )
        .where(Assessment.child_id == child_id)
        .order_by(Assessment.assessed_at, Assessment.id)
    ).all()
    if not rows:
        return 0
    subject_key = uuid.uuid4()
    # Fresh ids sorted into the assessments' order: the figures' tie-break between two
    # assessments made at the same instant (the newer id wins) is kept, their ids are not.
    ids = sorted(uuid.uuid4() for _ in rows)
    session.execute(
        insert(DisposedAssessmentFact),
        [
            {
                "id": fact_id,
                "subject_key": subject_key,
                "stats_key": stats_key,
                "assessed_at": row.assessed_at,
                "computed_level": row.computed_level,
                "final_level": row.final_level,
                "override_at": row.override_at,
            }
            for fact_id, row in zip(ids, rows, strict=True)
        ],
    )
    return len(rows)


def _forget_outbox(session: Session, child_id: uuid.UUID) -> int:
    """Drop the child's events from the outbox, sent or not: once the child's record is
    gone nothing more is said about them, and what was said is not kept."""
    subject = str(child_id)
    events, deliveries = EVENTS.events, EVENTS.deliveries
    seqs = list(session.scalars(select(events.c.seq).where(events.c.subject == subject)))
    if seqs:
        session.execute(delete(deliveries).where(deliveries.c.event_seq.in_(seqs)))
        session.execute(delete(events).where(events.c.seq.in_(seqs)))
    session.execute(delete(deliveries).where(deliveries.c.subject == subject))
    return len(seqs)


def dispose_of_child_risk(session: Session, child_id: uuid.UUID) -> RiskDisposal:
    """Keep the de-identified facts of the child's assessments, then delete everything this
    service holds under the child's id (assessments and answers, the current risk, agency
    links, break-glass grants, stored first answers, outbox events). The audit trail is kept:
    it holds opaque ids only. Does not commit."""
    stats_key = session.scalar(select(ChildRisk.stats_key).where(ChildRisk.child_id == child_id))
    # A child's assessments are counted only with their risk row (its cell key): without
    # one the figures never counted them, and there is nothing to keep.
    facts = _keep_facts(session, child_id, stats_key) if stats_key is not None else 0
    assessment_ids = list(session.scalars(select(Assessment.id).where(Assessment.child_id == child_id)))
    for assessment_id in assessment_ids:
        forget_answers_for(session, IDEMPOTENCY, resource_id=str(assessment_id))
    # The risk row first: it points at the latest assessment.
    session.execute(delete(ChildRisk).where(ChildRisk.child_id == child_id))
    if assessment_ids:
        session.execute(delete(AssessmentAnswer).where(AssessmentAnswer.assessment_id.in_(assessment_ids)))
        session.execute(delete(Assessment).where(Assessment.id.in_(assessment_ids)))
    links = session.execute(delete(ChildAgencyLink).where(ChildAgencyLink.child_id == child_id))
    grants = session.execute(delete(BreakGlassGrant).where(BreakGlassGrant.child_id == child_id))
    outbox = _forget_outbox(session, child_id)
    return RiskDisposal(
        assessments=len(assessment_ids),
        facts_kept=facts,
        agency_links=links.rowcount,  # type: ignore[attr-defined]
        break_glass_grants=grants.rowcount,  # type: ignore[attr-defined]
        outbox_events=outbox,
        risk_record=stats_key is not None,
    )


def child_disposed(session: Session, event: Mapping[str, Any], schedule_version: str) -> None:
    """The referral service disposed of a child's record: dispose of their risk record too,
    with one disposal record per record class the event names and one audit record. An
    event about a child this service holds nothing of (or a repeat) changes and records
    nothing. ``schedule_version`` is this service's schedule's, for an event that names none."""
    disposed = ChildDisposalNotice.from_event(event)
    done = dispose_of_child_risk(session, disposed.child_id)
    if not done.anything:
        return
    disposed.record(session, DISPOSALS, schedule_version=schedule_version, at=utc_now())
    session.flush()
    audit_trail.record(
        session,
        EVENTS_ACTOR,
        "dispose",
        "child_risk",
        disposed.child_id,
        disposed.child_id,
        detail=(
            f"{EVENT_TYPE} {disposed.event_id}: {done.assessments} assessments, "
            f"{done.facts_kept} kept as de-identified facts"
        )[:255],
    )
