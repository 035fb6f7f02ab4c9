"""Support figures: supports started and ended, the waiting time from request to start, the
child's engagement at contacts, and the risk level at start against at end. Counts are
grouped here from the few columns each figure needs (a partnership starts hundreds of
supports a year) and protected by the one disclosure scheme (:mod:`safeguarding_kit.figures`,
the cell key method with each support's and each contact's own ``stats_key``).

What counts: what happened in the window (a start, an end, a contact on a day of it) and was
recorded before :func:`referral_api.stats.timeliness.events_until`: now for `exact_figures`
analysts, otherwise the start of the current month, so that protected figures change once a
month and never with a single record.

Supports disposed of with their child's record count from the facts kept of them
(:mod:`referral_api.stats.sources`), so the figures of a past period are the same after a
disposal as before.

Waiting times (median and 90th percentile, nearest rank, in calendar days in England) are not
counts: see :func:`waiting_times` for the rule that protects them."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api.stats.dimensions import GroupBy, categories
from referral_api.stats.schemas import SupportWaitingTimes, WaitingTimeGroup
from referral_api.stats.sources import SupportMoment, contacts_on_days, supports_in
from referral_api.stats.timeliness import events_until
from referral_api.support.models import ContactSetting, EndReason, Engagement, RiskLevel, SupportKind
from referral_api.support.rules import waiting_days
from safeguarding_kit.figures import FigureCell, FigureTable, GroupCount, figure_table, period_of
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.periods import Window, england_day, england_midnight, financial_quarter_of

OTHER_PROVIDER = "other"
# Said in each table's note; the instant itself is not, so that a table's ETag stays the same.
RECORDED = "recorded before the start of the current month (for exact figures, before now)"
NOT_ASSESSED = "not_assessed"
# The waiting-time rule for callers without exact figures (written in the route's description).
WAITING_DAYS_ROUNDED_TO = 7
MIN_GROUP_FOR_P90 = 10


class SupportMeasure(StrEnum):
    started = "started"
    ended = "ended"


class SupportGroupBy(StrEnum):
    kind = "kind"
    provider = "provider"
    financial_quarter = "financial_quarter"
    end_reason = "end_reason"


class ContactGroupBy(StrEnum):
    engagement = "engagement"
    setting = "setting"
    kind = "kind"
    provider = "provider"


def provider_rows(agreement: Agreement) -> list[str]:
    """Every provider a figure lists: the agreement's services, then its agencies (a family
    such as ``school-*`` as one row), then ``other`` (a service or agency no longer in it)."""
    agencies = [entry.slug or entry.pattern or entry.name for entry in agreement.agencies]
    return list(dict.fromkeys([*(s.slug for s in agreement.services), *agencies, OTHER_PROVIDER]))


def provider_row(agreement: Agreement, service: str | None, agency: str | None) -> str:
    """The row a support is counted in: its service's slug when it came through a service of
    the agreement, else its providing agency (or the agency's family)."""
    if service is not None:
        return service if agreement.service(service) is not None else OTHER_PROVIDER
    entry = agreement.agency(agency) if agency is not None else None
    return (entry.slug or entry.pattern or entry.name) if entry is not None else OTHER_PROVIDER


def _counted(
    instant: datetime | None, recorded_at: datetime | None, window: Window, observed: datetime
) -> bool:
    """Happened in [start, counted_until) and recorded before ``observed``."""
    return (
        instant is not None
        and recorded_at is not None
        and window.start <= instant < window.counted_until
        and recorded_at < observed
    )


def _grouped(records: Iterable[tuple[str, str, int]]) -> list[GroupCount]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row, column, key in records:
        group = groups[(row, column)]
        group[0] += 1
        group[1] += int(key)
    return [(row, column, n, k) for (row, column), (n, k) in groups.items()]


def _support_categories(group: SupportGroupBy, window: Window, agreement: Agreement) -> list[str]:
    if group is SupportGroupBy.kind:
        return [k.value for k in SupportKind]
    if group is SupportGroupBy.provider:
        return provider_rows(agreement)
    if group is SupportGroupBy.financial_quarter:
        return categories(GroupBy.financial_quarter, window, ())
    return [r.value for r in EndReason]


def _support_value(group: SupportGroupBy, support: Any, agreement: Agreement, instant: datetime) -> str:
    if group is SupportGroupBy.kind:
        return str(support.kind.value)
    if group is SupportGroupBy.provider:
        return provider_row(agreement, support.provider_service, support.provider_agency)
    if group is SupportGroupBy.financial_quarter:
        return financial_quarter_of(england_day(instant))
    # Only ended supports are grouped by why they ended (the route refuses it for starts).
    return str(support.end_reason.value) if support.end_reason is not None else EndReason.other.value


def _supports(session: Session, window: Window, moment: SupportMoment) -> list[Any]:
    """The supports, live and kept, whose ``moment`` (start or end) falls in the window."""
    return list(session.execute(select(supports_in(window, moment))).all())


def support_figures(
    session: Session,
    agreement: Agreement,
    measure: SupportMeasure,
    group_by: Sequence[SupportGroupBy],
    window: Window,
    *,
    now: datetime,
    exact: bool,
    threshold: int,
) -> FigureTable:
    """Supports started (or ended) in the window, grouped by one or two dimensions, every
    category listed."""
    observed = events_until(now, exact=exact)
    started = measure is SupportMeasure.started
    records = []
    for support in _supports(session, window, "started_at" if started else "ended_at"):
        instant, recorded = (
            (support.started_at, support.start_recorded_at)
            if started
            else (support.ended_at, support.end_recorded_at)
        )
        if not _counted(instant, recorded, window, observed):
            continue
        values = [_support_value(g, support, agreement, instant) for g in group_by]
        records.append((values[0], values[1] if len(values) > 1 else "all", support.stats_key))
    return figure_table(
        _grouped(records),
        [g.value for g in group_by],
        exact=exact,
        threshold=threshold,
        rows=_support_categories(group_by[0], window, agreement),
        columns=_support_categories(group_by[1], window, agreement) if len(group_by) > 1 else (),
        window=window,
        note=f"Supports {measure.value} in the period and {RECORDED}. "
        "provider: the agreement's service the support came through, else the providing agency.",
    )


def nearest_rank(ordered: Sequence[int], fraction: float) -> int | None:
    """The nearest-rank percentile of ``ordered`` (ascending); None when empty."""
    if not ordered:
        return None
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _shown_days(days: int | None, *, exact: bool) -> int | None:
    if days is None or exact:
        return days
    return WAITING_DAYS_ROUNDED_TO * round(days / WAITING_DAYS_ROUNDED_TO)


def _waiting_group(
    provider: str | None, cell: FigureCell, waits: list[int], *, exact: bool, threshold: int
) -> WaitingTimeGroup:
    """One group's count and its waiting times under the rule of :func:`waiting_times`."""
    ordered = sorted(waits)
    shown = exact or (cell.suppressed is None and len(ordered) > threshold)
    p90_shown = exact or (shown and len(ordered) >= MIN_GROUP_FOR_P90)
    return WaitingTimeGroup(
        provider=provider,
        started=cell,
        median_days=_shown_days(nearest_rank(ordered, 0.5), exact=exact) if shown else None,
        p90_days=_shown_days(nearest_rank(ordered, 0.9), exact=exact) if p90_shown else None,
    )


def waiting_times(
    session: Session, agreement: Agreement, window: Window, *, now: datetime, exact: bool, threshold: int
) -> SupportWaitingTimes:
    """Calendar days (in England) from request to start of the supports started in the
    window, by provider and for all: how many started (a protected count, as in every
    figure table) and the median and 90th percentile wait (nearest rank).

    The rule for callers without exact figures: a group's median is shown only when its
    count is shown (not suppressed, primary or secondary) and more than ``threshold``
    supports started in it; its 90th percentile only when, besides, at least 10 did (so it
    is never the single longest wait); both rounded to the nearest whole week (7 days), so
    that no one child's own wait is given. Exact-figure analysts get every figure exact."""
    observed = events_until(now, exact=exact)
    waits: dict[str, list[int]] = defaultdict(list)
    records = []
    for support in _supports(session, window, "started_at"):
        if not _counted(support.started_at, support.start_recorded_at, window, observed):
            continue
        row = provider_row(agreement, support.provider_service, support.provider_agency)
        waits[row].append(waiting_days(support.requested_at, support.started_at))
        records.append((row, "all", support.stats_key))
    rows = provider_rows(agreement)
    table = figure_table(_grouped(records), ["provider"], exact=exact, threshold=threshold, rows=rows)
    cells = {cell.key["provider"]: cell for cell in table.cells}
    everyone = [days for group in waits.values() for days in group]
    return SupportWaitingTimes(
        period=period_of(window),
        events_until=observed,
        providers=[
            _waiting_group(row, cells[row], waits.get(row, []), exact=exact, threshold=threshold)
            for row in rows
        ],
        all_providers=_waiting_group(None, table.total, everyone, exact=exact, threshold=threshold),
        exact=exact,
        suppression_threshold=threshold,
        rounded_to_days=1 if exact else WAITING_DAYS_ROUNDED_TO,
        note=table.note
        + (
            ""
            if exact
            else f" A median is shown only where its count is shown and more than {threshold} supports "
            f"started, a 90th percentile only where at least {MIN_GROUP_FOR_P90} did; both rounded to "
            f"the nearest {WAITING_DAYS_ROUNDED_TO} days."
        ),
    )


def _contact_categories(group: ContactGroupBy, agreement: Agreement) -> list[str]:
    if group is ContactGroupBy.engagement:
        return [e.value for e in Engagement]
    if group is ContactGroupBy.setting:
        return [s.value for s in ContactSetting]
    if group is ContactGroupBy.kind:
        return [k.value for k in SupportKind]
    return provider_rows(agreement)


def contact_figures(
    session: Session,
    agreement: Agreement,
    group_by: Sequence[ContactGroupBy],
    window: Window,
    *,
    now: datetime,
    exact: bool,
    threshold: int,
) -> FigureTable:
    """Contacts with children on the window's days (up to ``counted_until``), grouped by
    engagement, setting, the support's kind or provider; every category listed."""
    observed = events_until(now, exact=exact)
    # Live and kept contacts alike.
    contacts = contacts_on_days(window.first_day, england_day(window.counted_until), observed)
    rows = session.execute(select(contacts)).all()

    def value(group: ContactGroupBy, contact: Any) -> str:
        if group is ContactGroupBy.engagement:
            return str(contact.engagement.value)
        if group is ContactGroupBy.setting:
            return str(contact.setting.value)
        if group is ContactGroupBy.kind:
            return str(contact.kind.value)
        return provider_row(agreement, contact.provider_service, contact.provider_agency)

    records = []
    for contact in rows:
        # A day counts when it starts before the instant the window is counted to.
        if england_midnight(contact.contacted_on) >= window.counted_until:
            continue
        values = [value(g, contact) for g in group_by]
        records.append((values[0], values[1] if len(values) > 1 else "all", contact.stats_key))
    return figure_table(
        _grouped(records),
        [g.value for g in group_by],
        exact=exact,
        threshold=threshold,
        rows=_contact_categories(group_by[0], agreement),
        columns=_contact_categories(group_by[1], agreement) if len(group_by) > 1 else (),
        window=window,
        note=f"Contacts on the period's days, {RECORDED}.",
    )


def risk_movement(
    session: Session, window: Window, *, now: datetime, exact: bool, threshold: int
) -> FigureTable:
    """Supports that started and ended in the window, by the child's risk level at the start
    (rows) and at the end (columns), `not_assessed` where no assessment preceded it."""
    observed = events_until(now, exact=exact)
    levels = [level.value for level in RiskLevel] + [NOT_ASSESSED]
    records = [
        (
            support.risk_level_at_start.value if support.risk_level_at_start is not None else NOT_ASSESSED,
            support.risk_level_at_end.value if support.risk_level_at_end is not None else NOT_ASSESSED,
            support.stats_key,
        )
        for support in _supports(session, window, "ended_at")
        if support.started_at is not None
        and _counted(support.ended_at, support.end_recorded_at, window, observed)
    ]
    return figure_table(
        _grouped(records),
        ["risk_level_at_start", "risk_level_at_end"],
        exact=exact,
        threshold=threshold,
        rows=levels,
        columns=levels,
        window=window,
        note=f"Supports that had started and ended in the period ({RECORDED}), "
        "by the level of the child's latest risk assessment at or before the start and the end.",
    )
