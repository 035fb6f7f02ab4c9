"""HTTP handlers for statistics."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from referral_api.settings import ReferralSettings
from referral_api.stats import service
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.schemas import ReferralFigures
from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.auth.principal import Role
from safeguarding_kit.db import SessionDep, UtcTimestamp, utc_now
from safeguarding_kit.problems import FieldError, Forbidden, Problem, problem_responses

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
MAX_RANGE = timedelta(days=3653)


class InvalidRange(Problem):
    status, slug, title = 422, "invalid-range", "Date range not possible"


@router.get(
    "/referrals",
    operation_id="getReferralFigures",
    summary="Referral counts, grouped, with disclosure control",
    response_model=ReferralFigures,
    responses={304: {"description": "Not modified (If-None-Match)"}, **problem_responses(401, 403, 422)},
)
def referral_figures(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    group_by: Annotated[
        list[GroupBy],
        Query(
            min_length=1, max_length=2, description="One or two of the dimensions, e.g. quarter and age_band."
        ),
    ],
    received_from: Annotated[
        UtcTimestamp | None, Query(alias="from", description="Default: a year before to.")
    ] = None,
    received_to: Annotated[UtcTimestamp | None, Query(alias="to", description="Default: now.")] = None,
) -> Response:
    """Counts of referrals received in [from, to) grouped by quarter, month, age band at
    referral (10-13, 14-16, 17-19, 20-21, other), gender, ethnicity, looked-after status,
    source agency type, concern type or outcome (allocated, signposted, no further
    action, open), with row and column totals. For every caller without the `analyst`
    role, counts from 1 to 5 are `c` and further cells are hidden where a suppressed
    count could be worked out from the totals; each hidden cell says why. Cacheable:
    send `If-None-Match` with the `ETag`."""
    if not principal.roles:
        raise Forbidden("Statistics need a role on the platform.")
    to = received_to or utc_now()
    start = received_from or to - timedelta(days=365)
    if to <= start:
        raise InvalidRange(
            "The range must end after it starts.",
            errors=[FieldError(detail="must be after from", parameter="to", location="query")],
        )
    if to - start > MAX_RANGE:
        raise InvalidRange(
            "Ask for at most 10 years at a time.",
            errors=[FieldError(detail="at most 10 years after from", parameter="to", location="query")],
        )
    if len(set(group_by)) != len(group_by):
        raise InvalidRange(
            "Group by two different dimensions.",
            errors=[FieldError(detail="repeated", parameter="group_by", location="query")],
        )
    settings = request.app.state.settings
    threshold = settings.stats_suppression_threshold if isinstance(settings, ReferralSettings) else 5
    figures = service.referral_figures(
        session, group_by, start, to, exact=principal.has_role(Role.analyst), threshold=threshold
    )
    body = figures.model_dump_json().encode()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=60", "Vary": "Authorization"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return JSONResponse(figures.model_dump(mode="json"), headers=headers)
