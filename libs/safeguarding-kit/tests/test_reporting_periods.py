"""The periods councils report in (financial years April to March), and the windows a
figure request may cover."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from safeguarding_kit.periods import (
    InvalidPeriod,
    financial_quarter_of,
    financial_year_of,
    months_between,
    parse_period,
    quarters_between,
    reporting_window,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "first", "end"),
    [
        ("2025-26", date(2025, 4, 1), date(2026, 4, 1)),
        ("2025-26-Q1", date(2025, 4, 1), date(2025, 7, 1)),
        ("2025-26-Q3", date(2025, 10, 1), date(2026, 1, 1)),
        ("2025-26-Q4", date(2026, 1, 1), date(2026, 4, 1)),
        ("1999-00", date(1999, 4, 1), date(2000, 4, 1)),
        ("2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("2025-Q3", date(2025, 7, 1), date(2025, 10, 1)),
        ("2025-11", date(2025, 11, 1), date(2025, 12, 1)),
        ("2025-12", date(2025, 12, 1), date(2026, 1, 1)),
    ],
)
def test_a_named_period_is_whole_days_in_england(text, first, end):
    period = parse_period(text)
    assert (period.first_day, period.end_day) == (first, end)


def test_a_period_starts_at_midnight_in_england_not_utc():
    # 1 July is in British Summer Time: midnight in England is 23:00 UTC the day before.
    assert parse_period("2025-26-Q2").start == datetime(2025, 6, 30, 23, 0, tzinfo=UTC)
    assert parse_period("2025-26-Q4").start == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025-27", "2025-26-Q5", "2025-13", "25-26", "2025/26", "FY2025", ""])
def test_anything_else_is_not_a_period(text):
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_days_belong_to_their_financial_year_and_quarter():
    assert financial_year_of(date(2026, 3, 31)) == "2025-26"
    assert financial_year_of(date(2026, 4, 1)) == "2026-27"
    assert financial_quarter_of(date(2025, 4, 1)) == "2025-26-Q1"
    assert financial_quarter_of(date(2026, 2, 14)) == "2025-26-Q4"
    assert quarters_between(date(2025, 4, 1), date(2026, 4, 1), financial=True) == [
        "2025-26-Q1",
        "2025-26-Q2",
        "2025-26-Q3",
        "2025-26-Q4",
    ]
    assert months_between(date(2025, 11, 1), date(2026, 2, 1)) == ["2025-11", "2025-12", "2026-01"]


def test_without_dates_the_window_is_the_current_financial_year():
    window = reporting_window(period=None, start=None, end=None, exact=True, now=NOW)
    assert window.label == "2026-27"
    assert window.as_of == NOW


def test_an_open_period_is_counted_to_the_start_of_this_month_for_callers_without_exact_figures():
    window = reporting_window(period="2026-27", start=None, end=None, exact=False, now=NOW)
    assert window.as_of == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    assert window.counted_until == window.as_of
    closed = reporting_window(period="2025-26", start=None, end=None, exact=False, now=NOW)
    assert closed.counted_until == closed.end


def test_plain_dates_are_days_in_england():
    window = reporting_window(
        period=None, start=date(2025, 7, 1), end=date(2025, 10, 1), exact=False, now=NOW
    )
    assert window.start == datetime(2025, 6, 30, 23, 0, tzinfo=UTC)
    assert window.label == "2025-07-01/2025-10-01"


def test_callers_without_exact_figures_get_whole_months_only():
    with pytest.raises(InvalidPeriod, match=r"^from: "):
        reporting_window(period=None, start=date(2025, 7, 2), end=date(2025, 10, 1), exact=False, now=NOW)
    with pytest.raises(InvalidPeriod, match=r"^to: "):
        reporting_window(
            period=None,
            start=date(2025, 7, 1),
            end=datetime(2025, 9, 30, 12, 0, 0, 1, tzinfo=UTC),
            exact=False,
            now=NOW,
        )
    exact = reporting_window(period=None, start=date(2025, 7, 2), end=date(2025, 7, 3), exact=True, now=NOW)
    assert exact.end_day == date(2025, 7, 3)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"period": "2025-26", "start": date(2025, 4, 1)}, "period"),
        ({"period": "next year"}, "period"),
        ({"start": datetime(2025, 4, 1, 0, 0)}, "from"),  # no offset
        ({"start": date(2025, 5, 1), "end": date(2025, 4, 1)}, "to"),
        ({"start": date(2010, 1, 1), "end": date(2025, 4, 1)}, "to"),
    ],
)
def test_a_window_that_cannot_be_counted_names_its_parameter(kwargs, parameter):
    arguments = {"period": None, "start": None, "end": None} | kwargs
    with pytest.raises(InvalidPeriod, match=rf"^{parameter}: "):
        reporting_window(**arguments, exact=True, now=NOW)
