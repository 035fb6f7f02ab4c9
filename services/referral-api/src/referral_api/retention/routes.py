"""HTTP handlers for legal holds, the retention schedule and disposal."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from referral_api.deps import RetentionGovernor
from referral_api.retention import disposal, service
from referral_api.retention.models import HoldSubject, LegalHold
from referral_api.retention.schemas import (
    DisposalRead,
    DisposalRunCreate,
    DisposalRunRead,
    LegalHoldCreate,
    LegalHoldRead,
    LegalHoldRelease,
    RecordClassRuleRead,
    RetentionRuleRead,
    RetentionScheduleRead,
)
from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, IdempotentCreate, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses
from safeguarding_kit.retention.schedule import RecordClass, RetentionSchedule, load_schedule

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])

HOLD_RESPONSES = problem_responses(401, 403, 404, 422)


def schedule_in_force(request: Request) -> RetentionSchedule:
    """The partnership's schedule (``RETENTION_SCHEDULE_FILE``), or the platform's default."""
    return load_schedule(request.app.state.settings.retention_schedule_file)


ScheduleInForce = Annotated[RetentionSchedule, Depends(schedule_in_force)]


def _hold_response(hold: LegalHold, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        LegalHoldRead.model_validate(hold),
        hold.row_version,
        status_code,
        headers={"Location": f"/api/v1/retention/legal-holds/{hold.id}"},
    )


@router.post(
    "/legal-holds",
    operation_id="placeLegalHold",
    summary="Place a legal hold",
    status_code=status.HTTP_201_CREATED,
    response_model=LegalHoldRead,
    responses=problem_responses(401, 403, 422),
)
def place_legal_hold(
    body: LegalHoldCreate,
    session: SessionDep,
    principal: RetentionGovernor,
    outbox: OutboxDep,
    once: IdempotentCreate,
) -> VersionedJSONResponse:
    """Auditors of an agency granted `audits` only. Keeps one child's record (with every
    record merged into it), one person or place of concern, or every record of a class of
    the retention schedule (`GET /api/v1/retention/schedule`) from disposal until the hold
    is released, here and in the other services (told by `retention.hold_placed`; the
    meetings service keeps its minutes under a hold on `meeting_minutes`). The child's id
    comes from the child's record or a referral, a person's or place's from the concerns
    register. A `subject_id` that names no such record (or one already disposed of) is 422
    `unknown-hold-subject` naming `#/subject_id`: the auditors placing holds learn nothing
    about a child they could not learn from the access log. Audited."""

    def create() -> VersionedJSONResponse:
        return _hold_response(service.place_hold(session, principal, body, outbox), 201)

    return once.answer(session, principal, body, create)


@router.get(
    "/legal-holds",
    operation_id="listLegalHolds",
    summary="Legal holds",
    response_model=Page[LegalHoldRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_legal_holds(
    session: SessionDep,
    principal: RetentionGovernor,
    active: Annotated[
        bool | None, Query(description="`true`: holds in force; `false`: released holds.")
    ] = None,
    subject_type: Annotated[HoldSubject | None, Query(description="Only holds on this kind.")] = None,
    subject_id: Annotated[
        uuid.UUID | None, Query(description="Only holds on this child, person or place.")
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[LegalHoldRead]:
    """Newest first. Each listed hold on a child is an audited read."""
    rows, next_cursor = service.list_holds(
        session,
        principal,
        active=active,
        subject_type=subject_type,
        subject_id=subject_id,
        limit=limit,
        cursor=cursor,
    )
    return Page[LegalHoldRead](items=[LegalHoldRead.model_validate(h) for h in rows], next_cursor=next_cursor)


@router.get(
    "/legal-holds/{hold_id}",
    operation_id="getLegalHold",
    summary="Read a legal hold",
    response_model=LegalHoldRead,
    responses=HOLD_RESPONSES,
)
def get_legal_hold(
    hold_id: uuid.UUID, session: SessionDep, principal: RetentionGovernor
) -> VersionedJSONResponse:
    """The hold with its `ETag` (send it in `If-Match` to release it)."""
    return _hold_response(service.read_hold(session, principal, hold_id))


@router.post(
    "/legal-holds/{hold_id}/release",
    operation_id="releaseLegalHold",
    summary="Release a legal hold",
    response_model=LegalHoldRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A hold already released is 409 (`hold-already-released`)."
    ),
)
def release_legal_hold(
    hold_id: uuid.UUID,
    body: LegalHoldRelease,
    session: SessionDep,
    principal: RetentionGovernor,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """What the hold kept follows the retention schedule again (and may be disposed of at
    the next run if it is past its time and no other hold keeps it); the other services
    are told (`retention.hold_released`). Needs `If-Match`. Audited."""
    return _hold_response(service.release_hold(session, principal, hold_id, body, if_match, outbox))


@router.get(
    "/schedule",
    operation_id="getRetentionSchedule",
    summary="Read the retention schedule in force",
    response_model=RetentionScheduleRead,
    responses=problem_responses(401),
)
def get_retention_schedule(principal: CurrentPrincipal, schedule: ScheduleInForce) -> RetentionScheduleRead:
    """Any authenticated caller of the partnership reads how long each class of record is
    kept and on whose authority, as the platform applies it (the partnership's own file,
    `RETENTION_SCHEDULE_FILE`, or the platform's default)."""
    return RetentionScheduleRead(
        version=schedule.version,
        record_classes=[
            RecordClassRuleRead(
                record_class=record_class,
                description=rule.description,
                keep=RetentionRuleRead.model_validate(rule.keep.model_dump()),
                rule=rule.keep.describe(),
                authority=rule.authority,
                source=rule.source,
            )
            for record_class, rule in schedule.record_classes.items()
        ],
    )


@router.post(
    "/disposal-runs",
    operation_id="runDisposal",
    summary="Preview or run the disposal of records past retention",
    response_model=DisposalRunRead,
    responses=problem_responses(401, 403, 422),
    openapi_extra=naturally_idempotent(
        "A repeat disposes of only what has fallen due since: what the first run disposed of is "
        "gone, and a dry run changes nothing."
    ),
)
def run_disposal(
    body: DisposalRunCreate,
    session: SessionDep,
    principal: RetentionGovernor,
    outbox: OutboxDep,
    schedule: ScheduleInForce,
) -> DisposalRunRead:
    """Auditors of an agency granted `audits` only. `dry_run: true` lists what is past the
    retention schedule today and not held, and disposes of nothing; `dry_run: false`
    disposes of exactly that (what changed since a dry run, such as a hold placed, stays)
    and lists what went. The service also runs this itself every `DISPOSAL_INTERVAL_SECONDS`.
    Both list in `held` what is past retention but kept by a legal hold.

    A child's record goes with every record merged into it: its referrals, their history
    and concerns, missing episodes, third-party information, agency links, links to persons
    and places of concern, break-glass grants. A de-identified count of it stays for the
    figures, one disposal record per record class (`GET /api/v1/retention/disposals`), and
    the audit trail. The risk and meetings services are told (`child.disposed`). Each
    child listed and not disposed of is an audited read."""
    run = disposal.run_disposal(session, principal, schedule, utc_now(), dry_run=body.dry_run, outbox=outbox)
    return disposal.disposal_run_body(run)


@router.get(
    "/disposals",
    operation_id="listDisposals",
    summary="Disposal records",
    response_model=Page[DisposalRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_disposals(
    session: SessionDep,
    principal: RetentionGovernor,
    subject_id: Annotated[
        uuid.UUID | None, Query(description="Only the records of this child, person or place.")
    ] = None,
    record_class: Annotated[RecordClass | None, Query(description="Only this record class.")] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[DisposalRead]:
    """Newest first: what class of record went, under which rule and schedule, when and
    why; never its content. A disposed record's id resolves to nothing any more."""
    rows, next_cursor = service.list_disposals(
        session, subject_id=subject_id, record_class=record_class, limit=limit, cursor=cursor
    )
    return Page[DisposalRead](items=[DisposalRead.model_validate(d) for d in rows], next_cursor=next_cursor)
