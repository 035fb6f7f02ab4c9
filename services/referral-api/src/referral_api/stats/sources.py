"""What each referral, support and disruption figure counts: the live records and the facts
kept of records disposed of (:mod:`referral_api.stats.models`: a child's referrals, missing
episodes and supports; a place of concern; the disruption actions against a person or place
of concern), as one selectable per figure.

Each selectable is a UNION ALL of one select per source, each filtered to the window, so
the grouping and counting stay in the database (no rows are loaded into Python) and a
past period's figures, protected ones included, are the same after a disposal as before:
a kept fact carries its record's values and its record's key for the cell key method.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Select, Subquery, select, union_all
from sqlalchemy.sql.elements import Label

from referral_api.children.models import Child
from referral_api.concerns.models import PlaceOfConcern
from referral_api.disruption.models import DisruptionAction
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import (
    CHILD_DIMENSIONS,
    GroupBy,
    ReferralColumns,
    expression,
    referral_outcome,
)
from referral_api.stats.models import (
    DisruptionActionFact,
    MissingEpisodeFact,
    PlaceFact,
    ReferralFact,
    ReferralFactConcern,
    SupportContactFact,
    SupportFact,
)
from referral_api.support.models import Support, SupportContact
from safeguarding_kit.periods import Window

LIVE_REFERRALS = ReferralColumns(
    received_quarter=Referral.received_quarter,
    received_financial_quarter=Referral.received_financial_quarter,
    received_month=Referral.received_month,
    age_band_at_referral=Referral.age_band_at_referral,
    gender=Child.gender,
    ethnicity=Child.ethnicity,
    looked_after=Child.looked_after,
    agency_type=Referral.agency_type,
    concern_type=ReferralConcern.concern_type,
    signposted_to=Referral.signposted_to,
    outcome=referral_outcome(Referral.allocated_team, Referral.signposted_to, Referral.decided_at),
)
KEPT_REFERRALS = ReferralColumns(
    received_quarter=ReferralFact.received_quarter,
    received_financial_quarter=ReferralFact.received_financial_quarter,
    received_month=ReferralFact.received_month,
    age_band_at_referral=ReferralFact.age_band_at_referral,
    gender=ReferralFact.gender,
    ethnicity=ReferralFact.ethnicity,
    looked_after=ReferralFact.looked_after,
    agency_type=ReferralFact.agency_type,
    concern_type=ReferralFactConcern.concern_type,
    signposted_to=ReferralFact.signposted_to,
    outcome=ReferralFact.outcome,
)


def _dimension_values(
    group_by: Sequence[GroupBy], columns: ReferralColumns, services: Sequence[str]
) -> list[Label[Any]]:
    return [expression(g, columns, services).label(f"d{i}") for i, g in enumerate(group_by)]


# --- Referral figures --------------------------------------------------------------------


def live_referral_groups(
    group_by: Sequence[GroupBy], window: Window, services: Sequence[str] = ()
) -> Select[*tuple[Any, ...]]:
    """The live referrals received in the window up to its ``counted_until``: each one's
    value of every dimension (``d0``, ``d1``) and its key (``stats_key``), once under each
    of its concern types when grouped by concern type."""
    stmt = select(*_dimension_values(group_by, LIVE_REFERRALS, services), Referral.stats_key).select_from(
        Referral
    )
    if set(group_by) & CHILD_DIMENSIONS:
        stmt = stmt.join(Child, Child.id == Referral.child_id)
    if GroupBy.concern_type in group_by:
        stmt = stmt.join(ReferralConcern, ReferralConcern.referral_id == Referral.id)
    return stmt.where(Referral.received_at >= window.start, Referral.received_at < window.counted_until)


def kept_referral_groups(
    group_by: Sequence[GroupBy], window: Window, services: Sequence[str] = ()
) -> Select[*tuple[Any, ...]]:
    """The same as :func:`live_referral_groups` for the facts kept of disposed referrals."""
    stmt = select(*_dimension_values(group_by, KEPT_REFERRALS, services), ReferralFact.stats_key).select_from(
        ReferralFact
    )
    if GroupBy.concern_type in group_by:
        stmt = stmt.join(ReferralFactConcern, ReferralFactConcern.referral_fact_id == ReferralFact.id)
    return stmt.where(
        ReferralFact.received_at >= window.start, ReferralFact.received_at < window.counted_until
    )


def referral_groups(group_by: Sequence[GroupBy], window: Window, services: Sequence[str] = ()) -> Subquery:
    """Live and kept referrals received in the window, as one selectable of dimension
    values (``d0``, ``d1``) and keys (``stats_key``) for the figures to group."""
    return union_all(
        live_referral_groups(group_by, window, services), kept_referral_groups(group_by, window, services)
    ).subquery("referral_groups")


# --- Timeliness ---------------------------------------------------------------------------


def live_referrals_received(window: Window) -> Select[*tuple[Any, ...]]:
    """The live referrals received in the window up to its ``counted_until``: the times
    the timeliness figures judge, whether migrated, and the key."""
    return select(
        Referral.received_at,
        Referral.migrated,
        Referral.decision_due_at,
        Referral.decided_at,
        Referral.first_contact_at,
        Referral.stats_key,
    ).where(Referral.received_at >= window.start, Referral.received_at < window.counted_until)


def kept_referrals_received(window: Window) -> Select[*tuple[Any, ...]]:
    """The same as :func:`live_referrals_received` for the facts kept of disposed referrals."""
    return select(
        ReferralFact.received_at,
        ReferralFact.migrated,
        ReferralFact.decision_due_at,
        ReferralFact.decided_at,
        ReferralFact.first_contact_at,
        ReferralFact.stats_key,
    ).where(ReferralFact.received_at >= window.start, ReferralFact.received_at < window.counted_until)


def referrals_received(window: Window) -> Subquery:
    """Live and kept referrals received in the window, as one selectable."""
    return union_all(live_referrals_received(window), kept_referrals_received(window)).subquery(
        "referrals_received"
    )


def live_missing_episodes_found(window: Window) -> Select[*tuple[Any, ...]]:
    """The live missing episodes whose child was found in the window up to its
    ``counted_until``: the return-home interview's due time and outcomes, and the key."""
    return select(
        MissingEpisode.found_at,
        MissingEpisode.rhi_due_at,
        MissingEpisode.rhi_offered_at,
        MissingEpisode.rhi_completed_at,
        MissingEpisode.rhi_declined_at,
        MissingEpisode.stats_key,
    ).where(MissingEpisode.found_at >= window.start, MissingEpisode.found_at < window.counted_until)


def kept_missing_episodes_found(window: Window) -> Select[*tuple[Any, ...]]:
    """The same as :func:`live_missing_episodes_found` for the facts kept of disposed episodes."""
    return select(
        MissingEpisodeFact.found_at,
        MissingEpisodeFact.rhi_due_at,
        MissingEpisodeFact.rhi_offered_at,
        MissingEpisodeFact.rhi_completed_at,
        MissingEpisodeFact.rhi_declined_at,
        MissingEpisodeFact.stats_key,
    ).where(MissingEpisodeFact.found_at >= window.start, MissingEpisodeFact.found_at < window.counted_until)


def missing_episodes_found(window: Window) -> Subquery:
    """Live and kept missing episodes found in the window, as one selectable."""
    return union_all(live_missing_episodes_found(window), kept_missing_episodes_found(window)).subquery(
        "missing_episodes_found"
    )


# --- Places of concern --------------------------------------------------------------------


def live_places_recorded_before(instant: datetime) -> Select[*tuple[Any, ...]]:
    """The live places of concern recorded before ``instant``: ward, type, when, key."""
    return select(
        PlaceOfConcern.ward_code,
        PlaceOfConcern.place_type,
        PlaceOfConcern.created_at,
        PlaceOfConcern.stats_key,
    ).where(PlaceOfConcern.created_at < instant)


def kept_places_recorded_before(instant: datetime) -> Select[*tuple[Any, ...]]:
    """The same as :func:`live_places_recorded_before` for the facts kept of disposed places."""
    return select(PlaceFact.ward_code, PlaceFact.place_type, PlaceFact.created_at, PlaceFact.stats_key).where(
        PlaceFact.created_at < instant
    )


def places_recorded_before(instant: datetime) -> Subquery:
    """Live and kept places of concern recorded before ``instant``, as one selectable."""
    return union_all(live_places_recorded_before(instant), kept_places_recorded_before(instant)).subquery(
        "places_recorded"
    )


# --- Support -------------------------------------------------------------------------------

# What the support figures read of a support and of a contact, by the same names on the live
# record and on its fact (what a fact keeps, and nothing else).
SUPPORT_COLUMNS = (
    "kind",
    "provider_service",
    "provider_agency",
    "requested_at",
    "started_at",
    "start_recorded_at",
    "ended_at",
    "end_recorded_at",
    "end_reason",
    "risk_level_at_start",
    "risk_level_at_end",
    "stats_key",
)
CONTACT_COLUMNS = ("contacted_on", "setting", "engagement", "recorded_at", "stats_key")
# What a contact figure reads of the contact's support.
CONTACT_SUPPORT_COLUMNS = ("kind", "provider_service", "provider_agency")
SupportMoment = Literal["started_at", "ended_at"]


def _supports_in(
    model: type[Support] | type[SupportFact], window: Window, moment: SupportMoment
) -> Select[Any]:
    instant = getattr(model, moment)
    return select(*(getattr(model, name) for name in SUPPORT_COLUMNS)).where(
        instant >= window.start, instant < window.counted_until
    )


def supports_in(window: Window, moment: SupportMoment) -> Subquery:
    """Live and kept supports whose start (``started_at``) or end (``ended_at``) fell in the
    window up to its ``counted_until``, with every column of :data:`SUPPORT_COLUMNS`."""
    return union_all(
        _supports_in(Support, window, moment), _supports_in(SupportFact, window, moment)
    ).subquery("supports")


def contacts_on_days(first_day: date, last_day: date, recorded_before: datetime) -> Subquery:
    """Live and kept contacts on the days ``first_day`` to ``last_day`` (both included)
    recorded before ``recorded_before``: the columns of :data:`CONTACT_COLUMNS` and their
    support's kind and provider."""
    live = (
        select(
            *(getattr(SupportContact, name) for name in CONTACT_COLUMNS),
            *(getattr(Support, name) for name in CONTACT_SUPPORT_COLUMNS),
        )
        .join(Support, Support.id == SupportContact.support_id)
        .where(
            SupportContact.contacted_on >= first_day,
            SupportContact.contacted_on <= last_day,
            SupportContact.recorded_at < recorded_before,
        )
    )
    kept = (
        select(
            *(getattr(SupportContactFact, name) for name in CONTACT_COLUMNS),
            *(getattr(SupportFact, name) for name in CONTACT_SUPPORT_COLUMNS),
        )
        .join(SupportFact, SupportFact.id == SupportContactFact.support_fact_id)
        .where(
            SupportContactFact.contacted_on >= first_day,
            SupportContactFact.contacted_on <= last_day,
            SupportContactFact.recorded_at < recorded_before,
        )
    )
    return union_all(live, kept).subquery("contacts")


# --- Disruption ----------------------------------------------------------------------------

# What the disruption figures read of an action, by the same names on the live action and on
# its fact.
DISRUPTION_COLUMNS = (
    "kind",
    "action_date",
    "counts_as_charge",
    "counts_as_conviction",
    "recorded_at",
    "stats_key",
)


def _actions_dated(
    model: type[DisruptionAction] | type[DisruptionActionFact],
    first_day: date,
    end_day: date,
    recorded_before: datetime,
) -> Select[Any]:
    return select(*(getattr(model, name) for name in DISRUPTION_COLUMNS)).where(
        model.action_date >= first_day, model.action_date < end_day, model.recorded_at < recorded_before
    )


def disruption_actions_dated(first_day: date, end_day: date, recorded_before: datetime) -> Subquery:
    """Live and kept disruption actions taken on ``first_day`` up to (not including)
    ``end_day`` and recorded before ``recorded_before``, with every column of
    :data:`DISRUPTION_COLUMNS`."""
    return union_all(
        _actions_dated(DisruptionAction, first_day, end_day, recorded_before),
        _actions_dated(DisruptionActionFact, first_day, end_day, recorded_before),
    ).subquery("disruption_actions_dated")


def disruption_kinds_recorded_before(instant: datetime) -> Subquery:
    """The kind of every live and kept disruption action recorded before ``instant`` (one
    row per action: distinct them to list the kinds)."""
    return union_all(
        select(DisruptionAction.kind).where(DisruptionAction.recorded_at < instant),
        select(DisruptionActionFact.kind).where(DisruptionActionFact.recorded_at < instant),
    ).subquery("disruption_kinds")
