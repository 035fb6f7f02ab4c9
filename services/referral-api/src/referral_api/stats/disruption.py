"""Disruption figures: actions by kind, and charges and convictions, by financial quarter of
the action's date, under the one disclosure scheme.

An action counts in the quarter of its ``action_date`` once it was recorded before the
window's ``counted_until`` (for callers without exact figures, the start of the current
month), so a protected figure changes once a month. What counts as a charge or a
conviction was copied from the vocabulary when the action was recorded: a vocabulary
changed later does not change past figures. A later outcome does not move an action
either (a conviction is an action of its own, on its own date). The actions of persons and
places of concern disposed of count from the facts kept of them
(:mod:`referral_api.stats.sources`), so past figures do not change with a disposal."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api.disruption.schemas import DisruptionFigures
from referral_api.disruption.vocabulary import DisruptionVocabulary
from referral_api.stats.sources import disruption_actions_dated, disruption_kinds_recorded_before
from safeguarding_kit.figures import GroupCount, figure_table
from safeguarding_kit.periods import Window, financial_quarter_of, quarters_between

CHARGES, CONVICTIONS = "charges", "convictions"
ACTIONS_NOTE = (
    "Actions by the financial quarter (April to June is Q1) of the day they were taken, recorded "
    "before period.as_of; every kind of the partnership's vocabulary listed, then any kind no longer in it."
)
CHARGES_NOTE = (
    "Actions of the kinds that count as charges or convictions when they were recorded, by the financial "
    "quarter of the day of the charge or the conviction; an outcome changed later does not move them."
)


def _grouped(session: Session, window: Window) -> tuple[list[GroupCount], list[GroupCount]]:
    """(kind, quarter, count, key sum) and (charges or convictions, quarter, count, key sum)
    of the actions (live and kept) dated in the window's days and recorded before
    ``counted_until``."""
    actions = disruption_actions_dated(window.first_day, window.end_day, window.counted_until)
    rows = session.execute(
        select(
            actions.c.kind,
            actions.c.action_date,
            actions.c.counts_as_charge,
            actions.c.counts_as_conviction,
            actions.c.stats_key,
        )
    ).all()
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_measure: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, day, charge, conviction, key in rows:
        quarter = financial_quarter_of(day)
        groups = [by_kind[(kind, quarter)]]
        if charge:
            groups.append(by_measure[(CHARGES, quarter)])
        if conviction:
            groups.append(by_measure[(CONVICTIONS, quarter)])
        for group in groups:
            group[0] += 1
            group[1] += int(key)
    return (
        [(k, q, n, s) for (k, q), (n, s) in by_kind.items()],
        [(m, q, n, s) for (m, q), (n, s) in by_measure.items()],
    )


def disruption_figures(
    session: Session, window: Window, vocabulary: DisruptionVocabulary, *, exact: bool, threshold: int
) -> DisruptionFigures:
    """Both tables over ``window``, every kind and every financial quarter the window touches
    listed, zeros included; ``exact`` (`exact_figures` analysts) skips disclosure control."""
    by_kind, by_measure = _grouped(session, window)
    # Kinds no longer in the vocabulary are listed whenever one was ever recorded (before
    # counted_until), whatever the window: a row's presence says nothing about the window.
    recorded = disruption_kinds_recorded_before(window.counted_until)
    recorded_kinds = session.scalars(select(recorded.c.kind).distinct())
    kinds = [*vocabulary.slugs, *sorted(set(recorded_kinds) - set(vocabulary.slugs))]
    quarters = quarters_between(window.first_day, window.end_day, financial=True)
    return DisruptionFigures(
        actions=figure_table(
            by_kind,
            ["kind", "financial_quarter"],
            exact=exact,
            threshold=threshold,
            rows=kinds,
            columns=quarters,
            window=window,
            note=ACTIONS_NOTE,
        ),
        charges_and_convictions=figure_table(
            by_measure,
            ["measure", "financial_quarter"],
            exact=exact,
            threshold=threshold,
            rows=[CHARGES, CONVICTIONS],
            columns=quarters,
            window=window,
            note=CHARGES_NOTE,
        ),
    )
