"""HTTP handlers for referrals: parse, authorise, call the service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from referral_api.access import READ_ROLES, SUBMIT_ROLES
from referral_api.referrals import service
from referral_api.referrals.models import ReferralStatus
from referral_api.referrals.schemas import ReferralCreate, ReferralRead
from safeguarding_kit.auth.dependencies import require_roles
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Submitter = Annotated[Principal, Depends(require_roles(*SUBMIT_ROLES))]


@router.post(
    "",
    operation_id="createReferral",
    summary="Submit a referral",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 409, 422),
)
def create_referral(
    body: ReferralCreate, session: SessionDep, principal: Submitter, response: Response
) -> ReferralRead:
    """Record a referral from the caller's agency. The agency, its type and the status
    come from the token and the workflow, never from the body."""
    referral = service.create_referral(session, principal, body)
    response.headers["Location"] = f"/api/v1/referrals/{referral.id}"
    return ReferralRead.model_validate(referral)


@router.get(
    "",
    operation_id="listReferrals",
    summary="List referrals you may see",
    response_model=Page[ReferralRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_referrals(
    session: SessionDep,
    principal: Reader,
    status: ReferralStatus | None = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ReferralRead]:
    """Newest first. Referrers see what their own agency sent; case workers of the
    statutory partners see every referral."""
    rows, next_cursor = service.list_referrals(
        session, principal, service.ReferralFilters(status=status), limit=limit, cursor=cursor
    )
    return Page[ReferralRead](items=[ReferralRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/{referral_id}",
    operation_id="getReferral",
    summary="Read one referral",
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_referral(referral_id: uuid.UUID, session: SessionDep, principal: Reader) -> ReferralRead:
    """The referral, or 404 if it does not exist or you may not see it."""
    return ReferralRead.model_validate(service.get_referral(session, principal, referral_id))
