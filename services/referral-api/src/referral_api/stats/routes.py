"""HTTP handlers for statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from referral_api.disruption.routes import VocabularyInForce
from referral_api.disruption.schemas import DisruptionFigures
from referral_api.stats import places, service
from referral_api.stats import support as support_figures
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.disruption import disruption_figures
from referral_api.stats.schemas import ReferralFigures, SupportWaitingTimes, Timeliness
from referral_api.stats.support import ContactGroupBy, SupportGroupBy, SupportMeasure
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


def _two_different(group_by: list[Any]) -> None:
    """422 when the same dimension is asked for twice."""
    if len(set(group_by)) != len(group_by):
        raise InvalidRange(
            "Group by two different dimensions.",
            errors=[FieldError(detail="repeated", parameter="group_by", location="query")],
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
    _two_different(group_by)
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


@router.get(
    "/disruption",
    operation_id="getDisruptionFigures",
    summary="Disruption actions, charges and convictions by financial quarter",
    response_model=DisruptionFigures,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Two tables: disruption actions by kind (every kind of the partnership's vocabulary, "
    "`GET /api/v1/disruption/kinds`, listed, then any kind it no longer lists that was ever recorded) "
    "and by financial quarter (`2026-27-Q1`, April to June) of the day each was taken; and the actions "
    "of the kinds that count as charges (`charges`) and as convictions (`convictions`) by the same "
    "quarters. Every quarter the window touches is listed, zeros included. An action counts once it "
    "was recorded before `period.as_of`; what counts as a charge or a conviction is fixed when it is "
    "recorded, and a later outcome does not move it (a conviction is an action of its own). Counts "
    "only: never a person, a place or a child. For callers without the `exact_figures` capacity, "
    "counts from 1 to 5 are `c`, further cells are hidden where a suppressed count could be worked "
    "out from the totals, and every count shown is perturbed by the cell key method (at most ±2; the "
    "same actions always get the same noise, in both tables)." + DISPOSAL_HELP + WINDOW_HELP,
)
def disruption(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    window: FigureWindow,
    vocabulary: VocabularyInForce,
) -> Response:
    figures = disruption_figures(
        session, window, vocabulary, exact=exact_for(principal), threshold=threshold_of(request)
    )
    return cacheable(request, figures)


SUPPORT_PROTECTION = (
    " Without the `exact_figures` capacity, counts from 1 to 5 are `c`, further cells are hidden where "
    "a suppressed count could be worked out from the totals, and every count shown is perturbed by the "
    "cell key method (at most ±2), and only what was recorded before the start of the current month "
    "counts (as `note` says), so the figures change once a month."
)


@router.get(
    "/support",
    operation_id="getSupportFigures",
    summary="Supports started or ended, by kind and provider",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Supports for children that started (`measure=started`) or ended (`measure=ended`) in "
    "the window, grouped by one or two of: `kind` (the closed list of support kinds), `provider` (the "
    "partnership agreement's service the support came through, else the providing agency; every "
    "service and agency listed, then `other`), `financial_quarter` of the start or end, and, for "
    "`measure=ended`, `end_reason`. Every category is listed, zeros included, with row and column "
    "totals." + SUPPORT_PROTECTION + DISPOSAL_HELP + WINDOW_HELP,
)
def support_started_and_ended(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    window: FigureWindow,
    measure: Annotated[SupportMeasure, Query(description="Count the starts or the ends.")],
    group_by: Annotated[
        list[SupportGroupBy],
        Query(min_length=1, max_length=2, description="One or two dimensions, e.g. kind and provider."),
    ],
) -> Response:
    _two_different(group_by)
    if measure is SupportMeasure.started and SupportGroupBy.end_reason in group_by:
        raise InvalidRange(
            "Only ended supports have an end reason: use measure=ended.",
            errors=[FieldError(detail="needs measure=ended", parameter="group_by", location="query")],
        )
    table = support_figures.support_figures(
        session,
        request.app.state.agreement,
        measure,
        group_by,
        window,
        now=utc_now(),
        exact=exact_for(principal),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)


@router.get(
    "/support/waiting-times",
    operation_id="getSupportWaitingTimes",
    summary="Waiting time from request to start of support, by provider",
    response_model=SupportWaitingTimes,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="For the supports that started in the window, by provider (the agreement's service the "
    "support came through, else the providing agency; every one listed) and for all providers: how "
    "many started, and the median and 90th percentile of the calendar days (in England) from the "
    "request to the start (nearest rank). Exact for `exact_figures` analysts. **Disclosure rule** for "
    "everyone else: the number started is protected as every count is (1 to 5 is `c`, further counts "
    "hidden where a `c` could be worked out from the total, the rest perturbed by at most 2); a "
    "median is a child's own wait, so it is shown only when its group's count is shown and more than "
    "5 supports started in it, and the 90th percentile only when, besides, at least 10 did (so it is "
    "never the longest wait); both are then rounded to the nearest 7 days (`rounded_to_days`); and "
    "only starts recorded before the start of the current month count (`events_until`)."
    + DISPOSAL_HELP
    + WINDOW_HELP,
)
def support_waiting_times(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    figures = support_figures.waiting_times(
        session,
        request.app.state.agreement,
        window,
        now=utc_now(),
        exact=exact_for(principal),
        threshold=threshold_of(request),
    )
    return cacheable(request, figures)


@router.get(
    "/support/contacts",
    operation_id="getSupportContactFigures",
    summary="Contacts with children under support, by engagement",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="Contacts with children on the window's days, grouped by one or two of: `engagement` "
    "(engaged, partly engaged, not engaged, did not attend), `setting` (the kind of place), and the "
    "support's `kind` or `provider`. Every category is listed, zeros included."
    + SUPPORT_PROTECTION
    + DISPOSAL_HELP
    + WINDOW_HELP,
)
def support_contacts(
    request: Request,
    session: SessionDep,
    principal: FigureReader,
    window: FigureWindow,
    group_by: Annotated[
        list[ContactGroupBy],
        Query(min_length=1, max_length=2, description="One or two dimensions, e.g. engagement and kind."),
    ],
) -> Response:
    _two_different(group_by)
    table = support_figures.contact_figures(
        session,
        request.app.state.agreement,
        group_by,
        window,
        now=utc_now(),
        exact=exact_for(principal),
        threshold=threshold_of(request),
    )
    return cacheable(request, table)


@router.get(
    "/support/risk-movement",
    operation_id="getSupportRiskMovement",
    summary="Risk level at the start of support against at its end",
    response_model=FigureTable,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
    description="The supports that had started and ended in the window, by the child's risk level at "
    "the start (rows) against at the end (columns): the level of the latest assessment the risk "
    "service announced at or before each (`not_assessed` where there was none). Every level is "
    "listed, zeros included." + SUPPORT_PROTECTION + DISPOSAL_HELP + WINDOW_HELP,
)
def support_risk_movement(
    request: Request, session: SessionDep, principal: FigureReader, window: FigureWindow
) -> Response:
    table = support_figures.risk_movement(
        session, window, now=utc_now(), exact=exact_for(principal), threshold=threshold_of(request)
    )
    return cacheable(request, table)
