"""HTTP handlers for break-glass access."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from referral_api.break_glass import service
from referral_api.break_glass.schemas import BreakGlassCreate, BreakGlassGrantRead
from referral_api.deps import BreakGlassCaller
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import GovernanceAuditor
from safeguarding_kit.problems import problem_responses

router = APIRouter(tags=["break-glass"])


@router.post(
    "/api/v1/children/{child_id}/break-glass",
    operation_id="breakGlassToChild",
    summary="Open a child's record in an emergency (break-glass)",
    status_code=status.HTTP_201_CREATED,
    response_model=BreakGlassGrantRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def break_glass(
    child_id: uuid.UUID,
    body: BreakGlassCreate,
    request: Request,
    session: SessionDep,
    principal: BreakGlassCaller,
    outbox: OutboxDep,
    once: IdempotentCreate,
) -> JSONResponse:
    """For an emergency only: a case worker whose agency is not linked to the child opens
    the child's record, referrals and missing episodes, **to read**, for themselves alone,
    for `BREAK_GLASS_HOURS` (24 by default). The written `reason` (at least 20 characters)
    is kept with the grant and with the audit record of every read made under it; the
    information governance teams (agencies granted `audits`) are told at once by the
    event `access.break_glass` (ids and the holder's `sub`, never the reason) and review
    every grant. The same event opens the child's risk in the risk service to the same
    person, to read, until the same moment. Nothing else widens access: the grant links
    no agency to the child and allows no change.

    The `child_id` comes from whoever asks you to act (the police, a hospital, the
    out-of-hours hub). 404 for an id that does not exist; 409 when you can already see
    the child."""

    def open_record() -> JSONResponse:
        grant = service.break_glass(
            session,
            principal,
            child_id,
            body.reason,
            agreement=request.app.state.agreement,
            window=request.app.state.break_glass_window,
            outbox=outbox,
        )
        return JSONResponse(
            BreakGlassGrantRead.model_validate(grant).model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/children/{grant.child_id}"},
        )

    return once.answer(session, principal, body, open_record)


@router.get(
    "/api/v1/break-glass",
    operation_id="listBreakGlassGrants",
    summary="Break-glass grants, for the auditors' review",
    response_model=Page[BreakGlassGrantRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_grants(
    session: SessionDep,
    principal: GovernanceAuditor,
    child_id: Annotated[uuid.UUID | None, Query(description="Only those about this child.")] = None,
    agency: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
            description="Only grants to people of this agency (its slug).",
        ),
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[BreakGlassGrantRead]:
    """Newest first, with who opened which child, why and until when; filter by child or
    agency. Each listed grant is an audited read."""
    rows, next_cursor = service.list_grants(
        session, principal, child_id=child_id, agency=agency, limit=limit, cursor=cursor
    )
    return Page[BreakGlassGrantRead](
        items=[BreakGlassGrantRead.model_validate(g) for g in rows], next_cursor=next_cursor
    )
