"""HTTP handlers for referrals: parse, authorise, call the service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from referral_api.deps import DataAdministrator, DecisionTeam, ReferralSubmitter, SentReferralReader
from referral_api.referrals import migration, service
from referral_api.referrals.models import ConcernType, ReferralStatus
from referral_api.referrals.schemas import (
    FirstContactCreate,
    MigratedReferralCreate,
    ReferralCreate,
    ReferralEventRead,
    ReferralRead,
    TransitionCreate,
)
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import DatabaseDep, SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import GUARDED_BY_IF_MATCH, IdempotencyKeyHeader, naturally_idempotent
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.periods import DayOrInstant
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])


def _referral_response(body: ReferralRead, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(body, body.version, status_code)


async def referral_filters(
    status: ReferralStatus | None = Query(None, description="Only referrals in this status."),
    concern_type: ConcernType | None = Query(None, description="Only referrals of this concern."),
    source_agency_type: AgencyType | None = Query(None, description="Agency type of the referrer."),
    allocated_worker: str | None = Query(
        None, max_length=200, description="Only referrals allocated to this worker."
    ),
    child_id: uuid.UUID | None = Query(None, description="Only those about this child."),
    # With an offset, as every timestamp the platform takes: a naive one cannot be compared.
    received_from: DayOrInstant | None = Query(
        None, description="Received at or after (a date, or an ISO 8601 time with its offset)."
    ),
    received_to: DayOrInstant | None = Query(
        None, description="Received before (a date, or an ISO 8601 time with its offset)."
    ),
) -> service.ReferralFilters:
    """The list's filters, from its query (a coroutine: nothing here waits, so no thread)."""
    return service.ReferralFilters(
        status=status,
        concern_type=concern_type,
        source_agency_type=source_agency_type,
        allocated_worker=allocated_worker,
        child_id=child_id,
        received_from=received_from,
        received_to=received_to,
    )


def _answer(submission: service.Submission) -> VersionedJSONResponse:
    """A referral made (201) or the first answer to a retry, with where it lives and its ETag."""
    return json_with_etag(
        submission.body,
        int(submission.body["version"]),
        submission.status,
        headers={"Location": f"/api/v1/referrals/{submission.body['id']}"},
    )


@router.post(
    "",
    operation_id="createReferral",
    summary="Submit a referral",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_referral(
    body: ReferralCreate,
    database: DatabaseDep,
    principal: ReferralSubmitter,
    outbox: OutboxDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> VersionedJSONResponse:
    """Record a referral from the caller's agency. The agency, its type and the status
    come from the token and the workflow, never from the body. Retries are safe with
    `Idempotency-Key` or the same `source_reference`: they get the first answer again."""
    # Intake is the busiest write: on PostgreSQL its statements wait on the event loop.
    submission = await database.run(
        lambda session: service.submit_referral(session, principal, body, idempotency_key, outbox)
    )
    return _answer(submission)


@router.post(
    "/migrated",
    operation_id="migrateHistoricReferral",
    summary="Load a historic referral from an earlier system",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 409, 422),
    openapi_extra=naturally_idempotent(
        "The required `source_reference` is its key: loading the same reference of the same "
        "source agency again with the same body answers the first answer and changes nothing; "
        "with another body it is 422 (`source-reference-reused`)."
    ),
)
def migrate_historic_referral(
    body: MigratedReferralCreate,
    request: Request,
    session: SessionDep,
    principal: DataAdministrator,
    outbox: OutboxDep,
) -> VersionedJSONResponse:
    """For the hub's data administrators moving the partnership from its earlier system
    (e.g. a spreadsheet tracker; `make import FILE=...` loads a CSV through this operation).
    The referral keeps its original `received_at`, and its decision, first contact and
    closure times; it is marked `migrated`, counts under `source_agency` (an agency of the
    agreement, with the type the agreement gives it) in figures by those dates, and its
    history names the administrator as actor with the original times. Times carry an
    offset; none is in the future and received_at <= decided_at <= closed_at (422 naming
    the field). The child may be older than 25 today (not when referred). Loading the same
    `source_reference` of the same source agency again with the same body answers the
    first answer again; with another body it is 422 (`source-reference-reused`); a live
    referral of that agency already holding the reference is 409. Audited; announces no
    `referral.*` event, so no screening opens for a referral received years ago."""
    submission = migration.migrate_referral(
        session, principal, body, outbox, agreement=request.app.state.agreement
    )
    return _answer(submission)


@router.get(
    "",
    operation_id="listReferrals",
    summary="List referrals you may see",
    response_model=Page[ReferralRead],
    responses=problem_responses(400, 401, 403, 422),
)
async def list_referrals(
    database: DatabaseDep,
    principal: SentReferralReader,
    filters: Annotated[service.ReferralFilters, Depends(referral_filters)],
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Response:
    """Newest first. Referrers see what their own agency sent; case workers of agencies
    granted `all_cases` see every referral; other case workers see their agency's, those
    about children linked to their agency, and (to read) those about a child they opened
    by break-glass."""
    # The busiest read (partner systems poll it): on PostgreSQL it waits on the event loop.
    items, next_cursor = await database.run(
        lambda session: service.list_referrals(session, principal, filters, limit=limit, cursor=cursor)
    )
    return Page[ReferralRead](items=items, next_cursor=next_cursor).as_response()


@router.get(
    "/overdue-decisions",
    operation_id="listOverdueReferralDecisions",
    summary="Referrals whose decision is overdue",
    response_model=Page[ReferralRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_overdue_decisions(
    session: SessionDep, principal: CaseWorker, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[ReferralRead]:
    """Referrals still waiting for a decision after their due time: the end of the next
    working day after receipt (midnight in Europe/London starting the day after it)."""
    items, next_cursor = service.list_referrals(
        session, principal, service.ReferralFilters(), limit=limit, cursor=cursor, overdue_only=True
    )
    return Page[ReferralRead](items=items, next_cursor=next_cursor)


@router.get(
    "/{referral_id}",
    operation_id="getReferral",
    summary="Read one referral",
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_referral(
    referral_id: uuid.UUID, session: SessionDep, principal: SentReferralReader
) -> VersionedJSONResponse:
    """The referral with its `ETag`, or 404 if it does not exist or you may not see it."""
    return _referral_response(service.read_referral(session, principal, referral_id))


@router.post(
    "/{referral_id}/transitions",
    operation_id="transitionReferral",
    summary="Move a referral to its next status",
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def transition_referral(
    referral_id: uuid.UUID,
    step: TransitionCreate,
    request: Request,
    session: SessionDep,
    principal: DecisionTeam,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """received -> screening -> allocated | signposted | no_further_action -> closed.
    Only the hub's referral decision team, at an agency the partnership agreement grants
    `decides_referrals`: screening needs the role `practitioner` or `manager`; allocating,
    signposting, no further action and closing need `manager` (403 otherwise, naming the
    role and capacity). `allocated_agency` must be an agency of the agreement
    (`GET /api/v1/partnership`), 422 otherwise: the agency given the case may then read
    the child's record. `signposted_to` is the slug of one of the agreement's `services`
    (e.g. `community-youth-team`), 422 naming the known slugs otherwise. Needs `If-Match`;
    an impossible step is 409."""
    referral = service.transition_referral(
        session, principal, referral_id, step, if_match, outbox, agreement=request.app.state.agreement
    )
    return _referral_response(service.to_read(session, referral))


@router.post(
    "/{referral_id}/first-contact",
    operation_id="recordFirstContact",
    summary="Record first contact with the child",
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(GUARDED_BY_IF_MATCH),
)
def record_first_contact(
    referral_id: uuid.UUID,
    contact: FirstContactCreate,
    session: SessionDep,
    principal: CaseWorker,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """When a worker first spoke with the child, for timeliness figures. Once only."""
    referral = service.record_first_contact(session, principal, referral_id, contact, if_match)
    return _referral_response(service.to_read(session, referral))


@router.get(
    "/{referral_id}/history",
    operation_id="getReferralHistory",
    summary="Workflow history of a referral",
    response_model=Page[ReferralEventRead],
    responses=problem_responses(401, 403, 404, 422),
)
def referral_history(
    referral_id: uuid.UUID, session: SessionDep, principal: SentReferralReader
) -> Page[ReferralEventRead]:
    """Each step, oldest first: who, agency, when, from what to what, and why. One page
    holding every step (`next_cursor` is always null, and no `limit` is taken): the
    workflow never goes back, so a referral has at most four steps (received, screening,
    its decision, closed)."""
    steps = service.history(session, principal, referral_id)
    return Page[ReferralEventRead](
        items=[ReferralEventRead.model_validate(e) for e in steps], next_cursor=None
    )
