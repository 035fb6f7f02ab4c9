"""HTTP handlers for statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from referral_api.stats import places, service
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.schemas import ReferralFigures, Timeliness
from referral_api.stats.timeliness import timeliness
from safeguarding_kit.db import SessionDep, utc_now
from safeguarding_kit.figures import (
    NOT_MODIFIED,
    FigureTable,
    FigureWindow,
    InvalidRange,
    cacheable,
    exact_for,
    threshold_of,
)
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.partnership.policy import FigureReader
from safeguarding_kit.problems import FieldError, problem_responses

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])

WINDOW_HELP = (
    " The window: `period` (a financial year `2025-26`, its quarter `2025-26-Q1`, a calendar year, "
    "quarter or month), or `from`/`to` (dates are days in England; without the `exact_figures` "
    "capacity, the first of a month); without either, the current financial year. Without exact "
    "figures a period still open is counted to the start of the current month (`period.as_of`), so "
    "the figures change once a month. Cacheable: send `If-None-Match` with the `ETag`."
)
DISPOSAL_HELP = (
    " Records disposed of under the retention schedule still count, from the de-identified facts "
    "kept when they went (no name, date of birth, identifier or free text), so the figures of a "
    "past period do not change."
)


@router.get(
    "/referrals",
    operation_id="getReferralFigures",
    summary="Referral counts, grouped, with disclosure control",
    response_model=ReferralFigures,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Counts of referrals received in the window grouped by one or two of: calendar "
    "`quarter` (`2025-Q3`), `financial_quarter` (`2025-26-Q1`, April to June), `month`, `age_band` at "
    "referral (10-13, 14-16, 17-19, 20-21, other), `gender`, `ethnicity`, `looked_after`, "
    "`source_agency_type`, `concern_type`, `outcome` (allocated, signposted, no_further_action, open) "
    "or `signposted_to` (the slugs of the partnership agreement's services, `other` for referrals "
    "signposted before the agreement listed them, `none`), with row and column totals. Every "
    "category is listed, zeros included. Migrated referrals count by their original dates. For "
    "callers without the `exact_figures` capacity, counts from 1 to 5 are `c`, further cells are "
    "hidden where a suppressed count could be worked out from the totals (each hidden cell says "
    "why), and every count shown is perturbed by the cell key method (at most ±2; the same records "
    "always get the same noise)." + DISPOSAL_HELP + WINDOW_HELP,
)
def referral_figures(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    window: FigureWindow,
    group_by: Annotated[
        list[GroupBy],
        Query(
            min_length=1,
            max_length=2,
            description="One or two dimensions, e.g. financial_quarter and age_band.",
        ),
    ],
) -> Response:
    if len(set(group_by)) != len(group_by):
        raise InvalidRange(
            "Group by two different dimensions.",
            errors=[FieldError(detail="repeated", parameter="group_by", location="query")],
        )
    agreement: Agreement = request.app.state.agreement
    figures = service.referral_figures(
        session,
        group_by,
        window,
        exact=exact_for(principal),
        threshold=threshold_of(request),
        services=[s.slug for s in agreement.services],
    )
    return cacheable(request, figures)


@router.get(
    "/timeliness",
    operation_id="getTimeliness",
    summary="Time to first contact, decisions and return-home interviews on time",
    response_model=Timeliness,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Median and 90th percentile hours from referral to first contact; the share of "
    "referral decisions within 1 working day, that is by the end of the next working day after "
    "receipt in England (a referral still undecided past its due time counts as "
    "late; one whose day has not yet run out is not counted); the share of children found whose "
    "return-home interview was offered within 72 hours (councils average about 63%). Referrals "
    "received and children found in the window count; migrated referrals are left out of first "
    "contact and decisions (no live timestamps) and `migrated_referrals_excluded` says how many. "
    "Without the `exact_figures` capacity every count is protected as in the referral figures (1 to "
    "5 is `c`, the rest perturbed by at most 2), the number on time is hidden when the number late "
    "is from 1 to 5, shares are worked out from the counts shown, medians of 5 or fewer are not "
    "shown, and decisions, contacts and interviews count up to the start of the current month "
    "(`events_until`)." + DISPOSAL_HELP + WINDOW_HELP,
)
def timeliness_figures(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    figures = timeliness(
        session, window, now=utc_now(), exact=exact_for(principal), threshold=threshold_of(request)
    )
    return cacheable(request, figures)


@router.get(
    "/places-of-concern",
    operation_id="getPlacesOfConcernByWard",
    summary="Places of concern by ward (counts only)",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Counts of places of concern recorded in the window, by ward and place type; never "
    "tied to a child or a home. Every place type is listed, and every ward any place has been "
    "recorded in (`online or unknown` for places without a ward), zeros included. Protected as the "
    "referral figures are for callers without the `exact_figures` capacity." + DISPOSAL_HELP + WINDOW_HELP,
)
def places_by_ward(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    table = places.places_by_ward(
        session, window, exact=exact_for(principal), threshold=threshold_of(request)
    )
    return cacheable(request, table)
