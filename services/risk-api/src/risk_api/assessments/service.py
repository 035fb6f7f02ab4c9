"""Business rules for assessments: score against a published model, keep the
computed and final level, let managers override with a reason, and keep each
child's current risk, trend and review date."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from risk_api import audit_trail
from risk_api.access import reads_linked_risk, reads_risk
from risk_api.assessments.events import RiskAssessed, RiskLevelChanged
from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildAgencyLink, ChildRisk
from risk_api.assessments.schemas import AssessmentCreate, OverrideCreate, ScreeningCreate
from risk_api.break_glass import service as break_glass_service
from risk_api.risk_models import service as models_service
from risk_api.risk_models.models import ModelStatus
from risk_api.scoring import UnknownIndicator, next_review_due, score_answers, trend
from risk_api.vocabularies import RiskLevel, Trend
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.new_rows import built, insert_new, insert_unless_present
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.problems import Conflict, FieldError, NotFound, Problem
from safeguarding_kit.working_days import add_working_days


class ChildRiskNotFound(NotFound):
    slug, title = "child-risk-not-found", "No risk record for this child"


class AssessmentNotFound(NotFound):
    slug, title = "assessment-not-found", "Assessment not found"


class UnknownIndicatorAnswered(Problem):
    """An assessment answers an indicator that is not in the risk model it is scored
    with."""

    status, slug, title = 422, "unknown-indicator", "Answer for an indicator not in the model"


class ModelNotPublished(Conflict):
    slug, title = "model-not-published", "Assessments use published models only"


def may_read_child(session: Session, principal: Principal, child_id: uuid.UUID) -> bool:
    """Statutory partners' case workers, or case workers of an agency linked to the child:
    those who work on the child's risk (a break-glass grant opens reads only, not this)."""
    if reads_risk(principal):
        return True
    return (
        reads_linked_risk(principal)
        and session.get(ChildAgencyLink, (child_id, principal.agency)) is not None
    )


def break_glass_note(session: Session, principal: Principal, child_id: uuid.UUID) -> str | None:
    """For a read only: the audit detail of the caller's open break-glass grant on the
    child (which lets them read it though they may not work on it); None without one."""
    grant = break_glass_service.open_grant(session, principal, child_id)
    return break_glass_service.break_glass_note(grant) if grant is not None else None


def _require_reader(
    session: Session, principal: Principal, child_id: uuid.UUID, what: str, *, break_glass: bool = False
) -> str | None:
    """404 unless the caller may work on the child's risk or, with ``break_glass`` (reads
    only), holds an open grant on the child; then the audit detail the read carries (the
    grant's, None without one). A refusal about a child this service knows is itself
    audited (and committed, whatever happens to the caller's request)."""
    if may_read_child(session, principal, child_id):
        return None
    note = break_glass_note(session, principal, child_id) if break_glass else None
    if note is None:
        if session.get(ChildRisk, child_id) is not None:
            audit_trail.record(session, principal, "read", "child_risk", child_id, child_id, outcome="denied")
            session.commit()
        raise ChildRiskNotFound(f"There is no {what} for child {child_id} that you can see.")
    return note


def record_agency_link(session: Session, event: Mapping[str, Any]) -> None:
    """The referral service linked an agency to a child (idempotent)."""
    data = event.get("data") or {}
    child_id, agency = uuid.UUID(str(data["child_id"])), str(data["agency"])
    insert_unless_present(session, ChildAgencyLink(child_id=child_id, agency=agency))


@dataclass
class _RiskRowsReadAhead:
    """A batch's risk rows read ahead (``read_risks_ahead``), kept in ``session.info`` for
    the transaction they were read in: the children found to have none, and the rows read
    or added since, held here because the session's identity map holds a clean row only
    as long as something else does."""

    transaction: object
    without_row: set[uuid.UUID]
    held: list[ChildRisk]


_READ_AHEAD = "risk_api.risk_rows_read_ahead"


def _read_ahead_in(session: Session) -> _RiskRowsReadAhead | None:
    read_ahead = session.info.get(_READ_AHEAD)
    if isinstance(read_ahead, _RiskRowsReadAhead) and read_ahead.transaction is session.get_transaction():
        return read_ahead
    return None


def _risk_row(session: Session, child_id: uuid.UUID) -> ChildRisk | None:
    read_ahead = _read_ahead_in(session)
    if read_ahead is not None and child_id in read_ahead.without_row:
        return None
    return session.get(ChildRisk, child_id)  # a row read ahead is in the session: not asked again


def _written_risk_row(session: Session, risk: ChildRisk) -> None:
    """Write a child's first risk row now, in one INSERT (``insert_new``), rather than leave
    it to the flush after each event of a batch, which works it out through the unit of
    work at about twice the CPU; and keep it as read ahead."""
    insert_new(session, [risk])
    read_ahead = _read_ahead_in(session)
    if read_ahead is not None:
        read_ahead.without_row.discard(risk.child_id)
        read_ahead.held.append(risk)


def read_risks_ahead(session: Session, events: list[dict[str, Any]]) -> None:
    """Before a batch of referrals opens its screenings: the risk rows of all the children
    they screen in one statement, where each screening would ask for its child's row by
    itself. Data an event cannot be applied with is passed over here: applying that event
    refuses it."""
    children: set[uuid.UUID] = set()
    for event in events:
        try:
            child_id = _child_to_screen(event)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if child_id is not None:
            children.add(child_id)
    if children:
        found = list(session.scalars(select(ChildRisk).where(ChildRisk.child_id.in_(children))))
        session.info[_READ_AHEAD] = _RiskRowsReadAhead(
            session.get_transaction(), children - {risk.child_id for risk in found}, found
        )


def assess_child(
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    data: AssessmentCreate,
    if_match: str | None,
    review_days: Mapping[RiskLevel, int],
    outbox: Outbox,
) -> Assessment:
    """Score the answers against the model, record the assessment and update the
    child's current risk. When the child already has a risk record, ``If-Match`` must
    name its version (so two assessors cannot silently overwrite each other). Does not
    commit: the caller (the idempotent create) commits with its answer."""
    _require_reader(session, principal, child_id, "risk record")
    risk = _risk_row(session, child_id)
    if risk is not None:
        check_if_match(if_match, risk.row_version)
    model = (
        models_service.get_model(session, data.model_id)
        if data.model_id
        else models_service.latest_published(session)
    )
    if model.status is not ModelStatus.published:
        raise ModelNotPublished(
            f"Version {model.version} of '{model.name}' is a {model.status.value}; publish it first."
        )
    specs, thresholds, modifiers = models_service.scoring_inputs(model)
    answers = {a.indicator_code: a.answer for a in data.answers}
    try:
        scoring = score_answers(
            specs, answers, thresholds, age=data.age_at_assessment, age_modifiers=modifiers
        )
    except UnknownIndicator as exc:
        index = next(i for i, a in enumerate(data.answers) if a.indicator_code == exc.code)
        raise UnknownIndicatorAnswered(
            f"Indicator '{exc.code}' is not in version {model.version} of '{model.name}'.",
            errors=[
                FieldError(
                    detail="not an indicator of this model", pointer=f"#/answers/{index}/indicator_code"
                )
            ],
        ) from exc
    now = utc_now()
    assessment = Assessment(
        id=uuid.uuid4(),
        child_id=child_id,
        model_id=model.id,
        assessed_by=principal.sub,
        assessed_agency=principal.agency,
        assessed_at=now,
        age_at_assessment=data.age_at_assessment,
        score=scoring.score,
        age_points=scoring.age_points,
        computed_level=scoring.level,
        final_level=scoring.level,
        hard_triggers=scoring.hard_triggers,
        answers=[
            AssessmentAnswer(
                indicator_code=a.indicator_code,
                answer=a.answer,
                evidence=a.evidence,
                source_agency=a.source_agency,
                contribution=scoring.contributions[a.indicator_code],
            )
            for a in data.answers
        ],
    )
    session.add(assessment)
    session.flush()
    if risk is None:
        risk = ChildRisk(child_id=child_id, assessments_count=0)
        session.add(risk)
    before = risk.current_level
    _apply_latest(risk, assessment, review_days)
    risk.assessments_count += 1
    session.flush()
    announce(outbox, session, assessment, before)
    audit_trail.record(
        session,
        principal,
        "create",
        "assessment",
        assessment.id,
        child_id,
        detail=f"level:{assessment.final_level.value}",
    )
    session.flush()
    return get_assessment(session, principal, assessment.id, audit=False)


def announce(outbox: Outbox, session: Session, assessment: Assessment, before: RiskLevel | None) -> None:
    """Events for the other services: the assessment, and a change of level if there was one."""
    outbox.publish(
        session,
        RiskAssessed(assessment_id=assessment.id, child_id=assessment.child_id, level=assessment.final_level),
    )
    if before != assessment.final_level:
        outbox.publish(
            session,
            RiskLevelChanged(
                child_id=assessment.child_id, from_level=before, to_level=assessment.final_level
            ),
        )


SYSTEM = Principal(
    sub="system:events",
    agency="platform",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.risk_assessor}),
    # The platform itself opens screenings for any child referred: the hub's own reach.
    capacities=frozenset({Capacity.all_cases}),
)
EXPLOITATION_CONCERNS = {"sexual_exploitation", "criminal_exploitation", "county_lines", "trafficking"}


def _child_to_screen(event: Mapping[str, Any]) -> uuid.UUID | None:
    """The child a referral.received event opens a screening for: None unless the referral
    names an exploitation concern."""
    data = event.get("data") or {}
    if not EXPLOITATION_CONCERNS & set(data.get("concern_types", [])):
        return None
    return uuid.UUID(str(data["child_id"]))


def screening_for_referral(session: Session, event: Mapping[str, Any], working_days: int) -> None:
    """A referral with an exploitation concern opens a screening for the child
    (idempotent: the inbox and open_screening both ignore a repeat)."""
    child_id = _child_to_screen(event)
    if child_id is None:
        return
    opened = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    open_screening(session, SYSTEM, child_id, ScreeningCreate(opened_at=opened), working_days, commit=False)


def _apply_latest(risk: ChildRisk, assessment: Assessment, review_days: Mapping[RiskLevel, int]) -> None:
    """Make ``assessment`` the child's current risk, with trend and next review."""
    previous = risk.current_level if risk.assessment_id != assessment.id else risk.previous_level
    if risk.current_level != assessment.final_level:
        risk.level_changed_at = utc_now()
    risk.previous_level = previous
    risk.current_level = assessment.final_level
    risk.last_assessed_at = assessment.assessed_at
    risk.trend = trend([assessment.final_level, previous] if previous else [assessment.final_level])
    risk.assessment_id = assessment.id
    risk.next_review_due = next_review_due(assessment.final_level, assessment.assessed_at, review_days)


def override_level(
    session: Session,
    principal: Principal,
    assessment_id: uuid.UUID,
    data: OverrideCreate,
    if_match: str | None,
    review_days: Mapping[RiskLevel, int],
    outbox: Outbox,
) -> Assessment:
    """A manager's professional judgement: a final level other than the computed one,
    with the reason. Both levels stay on record. Needs ``If-Match``; commits."""
    assessment = get_assessment(session, principal, assessment_id, audit=False)
    check_if_match(if_match, assessment.row_version)
    assessment.final_level = data.level
    assessment.override_reason = data.reason
    assessment.override_by = principal.sub
    assessment.override_at = utc_now()
    risk = _risk_row(session, assessment.child_id)
    if risk is not None and risk.assessment_id == assessment.id:
        before = risk.current_level
        _apply_latest(risk, assessment, review_days)
        announce(outbox, session, assessment, before)
    session.flush()
    audit_trail.record(
        session,
        principal,
        "override",
        "assessment",
        assessment.id,
        assessment.child_id,
        detail=f"{assessment.computed_level.value}->{data.level.value}",
    )
    session.commit()
    return get_assessment(session, principal, assessment.id, audit=False)


def get_assessment(
    session: Session, principal: Principal, assessment_id: uuid.UUID, *, audit: bool = True
) -> Assessment:
    """The assessment with its answers, for a caller who may read the child's risk (with
    ``audit``, a read, also under a break-glass grant); audited. Without ``audit`` (the
    caller is about to change it, or has just) a grant opens nothing."""
    assessment = session.scalar(
        select(Assessment).where(Assessment.id == assessment_id).options(selectinload(Assessment.answers))
    )
    note = None
    if assessment is not None and not may_read_child(session, principal, assessment.child_id):
        note = break_glass_note(session, principal, assessment.child_id) if audit else None
        if note is None:
            audit_trail.record(
                session, principal, "read", "assessment", assessment.id, assessment.child_id, outcome="denied"
            )
            session.commit()
            assessment = None
    if assessment is None:
        raise AssessmentNotFound(f"There is no assessment {assessment_id} that you can see.")
    if audit:
        audit_trail.record(
            session, principal, "read", "assessment", assessment.id, assessment.child_id, detail=note
        )
        session.commit()
    return assessment


def child_risk(session: Session, principal: Principal, child_id: uuid.UUID) -> ChildRisk:
    """The child's current risk (also to the holder of a break-glass grant); audited."""
    note = _require_reader(session, principal, child_id, "risk record", break_glass=True)
    risk = _risk_row(session, child_id)
    if risk is None:
        raise ChildRiskNotFound(f"There is no risk record for child {child_id} that you can see.")
    audit_trail.record(session, principal, "read", "child_risk", child_id, child_id, detail=note)
    session.commit()
    return risk


def history(
    session: Session, principal: Principal, child_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[Assessment], str | None]:
    """Every assessment of the child, newest first (also to the holder of a break-glass
    grant); audited."""
    note = _require_reader(session, principal, child_id, "assessment", break_glass=True)
    rows, next_cursor = paginate(
        session,
        select(Assessment).where(Assessment.child_id == child_id).options(selectinload(Assessment.answers)),
        created_at=Assessment.assessed_at,
        id_column=Assessment.id,
        limit=limit,
        cursor=cursor,
    )
    count = f"{len(rows)} items"
    audit_trail.record(
        session,
        principal,
        "list",
        "assessment",
        child_id,
        child_id,
        detail=f"{note} {count}" if note else count,
    )
    session.commit()
    return rows, next_cursor


def open_screening(
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    data: ScreeningCreate,
    working_days: int,
    *,
    commit: bool = True,
) -> ChildRisk:
    """Record that screening has opened: the initial assessment falls due within
    ``working_days`` working days. Opening again changes nothing; commits."""
    _require_reader(session, principal, child_id, "risk record")
    risk = _risk_row(session, child_id)
    if risk is None or risk.screening_opened_at is None:
        opened = data.opened_at or utc_now()
        due = add_working_days(opened, working_days)
        if risk is None:  # the child's first risk row, opened with its screening
            risk = built(
                ChildRisk,
                child_id=child_id,
                assessments_count=0,
                screening_opened_at=opened,
                initial_assessment_due=due,
            )
            _written_risk_row(session, risk)
        else:
            risk.screening_opened_at = opened
            risk.initial_assessment_due = due
            session.flush()
        audit_trail.record(session, principal, "create", "screening", child_id, child_id)
    if commit:
        session.commit()
    return risk


@dataclass(frozen=True)
class RiskFilters:
    level: RiskLevel | None = None
    trend: Trend | None = None
    level_changed_since: datetime | None = None
    review_due_before: datetime | None = None
    assessed_before: datetime | None = None


def list_child_risks(
    session: Session, principal: Principal, filters: RiskFilters, *, limit: int, cursor: str | None
) -> tuple[list[ChildRisk], str | None]:
    """Children's current risk matching the filters (for agendas and the hub's lists),
    most recently changed first; each listed child's read audited."""
    stmt = select(ChildRisk).where(ChildRisk.current_level.is_not(None))
    if not reads_risk(principal):
        if not reads_linked_risk(principal):
            return [], None
        linked = select(ChildAgencyLink.child_id).where(ChildAgencyLink.agency == principal.agency)
        stmt = stmt.where(ChildRisk.child_id.in_(linked))
    if filters.level is not None:
        stmt = stmt.where(ChildRisk.current_level == filters.level)
    if filters.trend is not None:
        stmt = stmt.where(ChildRisk.trend == filters.trend)
    if filters.level_changed_since is not None:
        stmt = stmt.where(ChildRisk.level_changed_at >= filters.level_changed_since)
    if filters.review_due_before is not None:
        stmt = stmt.where(ChildRisk.next_review_due < filters.review_due_before)
    if filters.assessed_before is not None:
        stmt = stmt.where(ChildRisk.last_assessed_at < filters.assessed_before)
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=ChildRisk.updated_at,
        id_column=ChildRisk.child_id,
        limit=limit,
        cursor=cursor,
    )
    for risk in rows:
        audit_trail.record(session, principal, "list", "child_risk", risk.child_id, risk.child_id)
    session.commit()
    return rows, next_cursor


def review_overdue(risk: ChildRisk, now: datetime | None = None) -> bool:
    """True when the child's review date has passed."""
    return risk.next_review_due is not None and (now or utc_now()) > risk.next_review_due
