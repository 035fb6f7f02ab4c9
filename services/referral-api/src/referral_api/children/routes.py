"""HTTP handlers for children."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from referral_api.access import sees_all_cases
from referral_api.children import service
from referral_api.children.models import Child
from referral_api.children.schemas import ChildDetails, ChildMerge, ChildRead, ChildUpdate
from referral_api.deps import ChildMerger
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import DatabaseDep, SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import (
    GUARDED_BY_IF_MATCH,
    IdempotentCreate,
    naturally_idempotent,
)
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import CaseWorker
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/children", tags=["children"])


def _child_read(principal: Principal, child: Child, facts: service.ChildFacts) -> ChildRead:
    """The answer about ``child`` with its ``facts``: other children's ids (its possible
    duplicates) only for those who may see every case."""
    body = ChildRead.model_validate(child, from_attributes=True)
    body.referral_count = facts.referral_count
    if sees_all_cases(principal):
        body.possible_duplicate_ids = facts.possible_duplicate_ids
    return body


def _child_bodies(session: Session, principal: Principal, children: list[Child]) -> list[ChildRead]:
    """The answers about ``children``, their facts asked once for all of them."""
    if not children:
        return []
    facts = service.facts_about(
        session, [child.id for child in children], duplicates=sees_all_cases(principal)
    )
    return [_child_read(principal, child, facts[child.id]) for child in children]


def _child_body(session: Session, principal: Principal, child: Child) -> ChildRead:
    [body] = _child_bodies(session, principal, [child])
    return body


def _child_response(body: ChildRead, status_code: int = 200) -> VersionedJSONResponse:
    return json_with_etag(
        body, body.version, status_code, headers={"Location": f"/api/v1/children/{body.id}"}
    )


@router.post(
    "",
    operation_id="registerChild",
    summary="Register a child, or find the one already known",
    status_code=201,
    response_model=ChildRead,
    responses={
        200: {
            "description": "The child was already known: the existing record (same NHS number "
            "and, for agencies without `all_cases`, the same date of birth and family name).",
            "model": ChildRead,
        },
        **problem_responses(401, 403, 422),
    },
)
def register_child(
    details: ChildDetails,
    session: SessionDep,
    principal: CaseWorker,
    outbox: OutboxDep,
    once: IdempotentCreate,
) -> JSONResponse:
    """201 with a new record; the hub's own teams see in `possible_duplicate_ids` any
    records with the same names and date of birth, or the same NHS number, for a
    manager to review and merge. 200 with the existing record when the NHS number is
    known and, for agencies without `all_cases`, the date of birth and family name
    match it too. A known NHS number with other details is never refused: it is
    registered as a new record, exactly as an unknown number would be, and the hub
    reviews the possible match. NHS numbers written in other scripts' digits
    (full-width, Arabic-Indic...) are read as the same ASCII number."""

    def register() -> JSONResponse:
        registration = service.enrol_child(session, principal, details, outbox)
        # A new record is listed with those it may duplicate; a matched one with none.
        child = registration.child
        duplicates = registration.created and sees_all_cases(principal)
        facts = service.facts_about(session, [child.id], duplicates=duplicates)[child.id]
        body = _child_read(principal, child, facts)
        return _child_response(body, 201 if registration.created else 200)

    return once.answer(session, principal, details, register)


@router.get(
    "",
    operation_id="listChildren",
    summary="List children you may see",
    response_model=Page[ChildRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_children(
    session: SessionDep, principal: CaseWorker, limit: LimitParam = 25, cursor: CursorParam = None
) -> Response:
    """Newest first; each child listed is an audited read."""
    items, next_cursor = service.list_children(
        session, principal, lambda page: _child_bodies(session, principal, page), limit=limit, cursor=cursor
    )
    return Page[ChildRead](items=items, next_cursor=next_cursor).as_response()


@router.get(
    "/{child_id}",
    operation_id="getChild",
    summary="Read a child's record",
    response_model=ChildRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_child(
    child_id: uuid.UUID, database: DatabaseDep, principal: CaseWorker
) -> VersionedJSONResponse:
    """The record with its `ETag`; 404 if it does not exist or you may not see it."""
    # The record every case worker opens first: on PostgreSQL it waits on the event loop.
    body = await database.run(
        lambda session: service.read_child(
            session, principal, child_id, lambda child, facts: _child_read(principal, child, facts)
        )
    )
    return _child_response(body)


@router.patch(
    "/{child_id}",
    operation_id="updateChild",
    summary="Update a child's record",
    response_model=ChildRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_child(
    child_id: uuid.UUID,
    changes: ChildUpdate,
    session: SessionDep,
    principal: CaseWorker,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Needs `If-Match` with the ETag of your last read: 428 without it, 412 if stale."""
    child = service.update_child(session, principal, child_id, changes, if_match)
    return _child_response(_child_body(session, principal, child))


@router.post(
    "/{child_id}/merge",
    operation_id="mergeChildren",
    summary="Merge a duplicate record into this one",
    response_model=ChildRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    openapi_extra=naturally_idempotent(
        GUARDED_BY_IF_MATCH + " A duplicate already merged is 409 (`invalid-merge`)."
    ),
)
def merge_children(
    child_id: uuid.UUID,
    merge: ChildMerge,
    session: SessionDep,
    principal: ChildMerger,
    outbox: OutboxDep,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Managers of the hub's own teams only (the role `manager` at an agency granted
    `all_cases`). The duplicate's referrals and history move to this record; the
    duplicate is kept, marked `merged_into_id`. Every merge needs a `reason`, kept in both
    records' audit with whether their date of birth or family name differed. Needs
    `If-Match` of this record."""
    child = service.merge_children(session, principal, child_id, merge, if_match, outbox)
    return _child_response(_child_body(session, principal, child))
