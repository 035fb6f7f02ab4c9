"""HTTP handlers for statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import String, cast, func, select

from referral_api.concerns.models import PlaceOfConcern
from referral_api.stats import service
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.schemas import ReferralFigures, Timeliness
from referral_api.stats.timeliness import timeliness
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.figures import (
    NOT_MODIFIED,
    FigureTable,
    From,
    InvalidRange,
    To,
    cacheable,
    checked_range,
    figure_table,
    threshold_of,
)
from safeguarding_kit.partnership.policy import FigureReader, Permission, allows
from safeguarding_kit.problems import FieldError, Forbidden, problem_responses

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])


@router.get(
    "/referrals",
    operation_id="getReferralFigures",
    summary="Referral counts, grouped, with disclosure control",
    response_model=ReferralFigures,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def referral_figures(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    group_by: Annotated[
        list[GroupBy],
        Query(min_length=1, max_length=2, description="One or two dimensions, e.g. quarter and age_band."),
    ],
    received_from: From = None,
    received_to: To = None,
) -> Response:
    """Counts of referrals received in [from, to) grouped by quarter, month, age band at
    referral (10-13, 14-16, 17-19, 20-21, other), gender, ethnicity, looked-after status,
    source agency type, concern type or outcome (allocated, signposted, no further
    action, open), with row and column totals. For every caller without the `analyst`
    role, counts from 1 to 5 are `c` and further cells are hidden where a suppressed
    count could be worked out from the totals; each hidden cell says why. Cacheable:
    send `If-None-Match` with the `ETag`."""
    start, to = checked_range(principal, received_from, received_to)
    if len(set(group_by)) != len(group_by):
        raise InvalidRange(
            "Group by two different dimensions.",
            errors=[FieldError(detail="repeated", parameter="group_by", location="query")],
        )
    figures = service.referral_figures(
        session,
        group_by,
        start,
        to,
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, figures)


@router.get(
    "/timeliness",
    operation_id="getTimeliness",
    summary="Time to first contact, decisions and return-home interviews on time",
    response_model=Timeliness,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
def timeliness_figures(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    received_from: From = None,
    received_to: To = None,
) -> Response:
    """Median and 90th percentile hours from referral to first contact; the share of
    referral decisions within 1 working day (a referral still undecided past its due time
    counts as late; one whose day has not yet run out is not counted); the share of children found whose
    return-home interview was offered within 72 hours (councils average about 63%).
    Counts from 1 to 5 are suppressed for everyone but analysts."""
    start, to = checked_range(principal, received_from, received_to)
    figures = timeliness(
        session,
        start,
        to,
        now=utc_now(),
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, figures)


@router.get(
    "/places-of-concern",
    operation_id="getPlacesOfConcernByWard",
    summary="Places of concern by ward (counts only)",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403)},
)
def places_by_ward(request: Request, session: SessionDep, principal: FigureReader) -> Response:
    """Counts of places of concern by ward and type; never tied to a child or a home.
    Counts from 1 to 5 are suppressed for everyone but analysts."""
    if not principal.roles:
        raise Forbidden("Statistics need a role on the platform.")
    ward = func.coalesce(PlaceOfConcern.ward_code, "online or unknown")
    rows = session.execute(
        select(ward, cast(PlaceOfConcern.place_type, String), func.count()).group_by(
            ward, PlaceOfConcern.place_type
        )
    ).all()
    table = figure_table(
        [(str(w), str(t), int(n)) for w, t, n in rows],
        ["ward_code", "place_type"],
        exact=allows(principal, Permission.read_exact_figures),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)
