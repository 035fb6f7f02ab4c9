"""Meeting dates in wall-clock time: clock changes, bank holidays, split series."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from meetings_api.recurrence import BankHolidayRule, plan, rule_from, rule_until

LONDON = ZoneInfo("Europe/London")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def test_a_ten_oclock_meeting_stays_at_ten_when_the_clocks_go_forward():
    meetings = plan(
        "FREQ=WEEKLY;BYDAY=WE",
        datetime(2027, 3, 17, 10),
        LONDON,
        BankHolidayRule.keep,
        datetime(2027, 3, 15, tzinfo=UTC),
        datetime(2027, 4, 5, tzinfo=UTC),
    )
    assert [m.starts_at.astimezone(LONDON).hour for m in meetings] == [10, 10, 10]
    assert [utc(m.starts_at) for m in meetings] == [
        "2027-03-17 10:00",
        "2027-03-24 10:00",
        "2027-03-31 09:00",
    ]


def test_a_meeting_on_easter_monday_moves_to_tuesday_and_is_flagged():
    meetings = plan(
        "FREQ=WEEKLY;BYDAY=MO",
        datetime(2027, 3, 22, 10),
        LONDON,
        BankHolidayRule.move_to_next_working_day,
        datetime(2027, 3, 28, tzinfo=UTC),
        datetime(2027, 4, 1, tzinfo=UTC),
    )
    [easter] = meetings
    assert easter.bank_holiday == "Easter Monday"
    assert easter.starts_at.astimezone(LONDON) == datetime(2027, 3, 30, 10, tzinfo=LONDON)
    assert easter.original_start.astimezone(LONDON).date().isoformat() == "2027-03-29"


def test_a_series_that_skips_bank_holidays_skips_christmas():
    meetings = plan(
        "FREQ=WEEKLY;BYDAY=FR",
        datetime(2026, 12, 4, 10),
        LONDON,
        BankHolidayRule.skip,
        datetime(2026, 12, 20, tzinfo=UTC),
        datetime(2026, 12, 31, tzinfo=UTC),
    )
    [christmas] = meetings
    assert (christmas.bank_holiday, christmas.skipped) == ("Christmas Day", True)


def test_splitting_a_counted_series_keeps_the_total():
    first = datetime(2027, 1, 6, 10)
    assert (
        rule_until("FREQ=WEEKLY;COUNT=10", first, datetime(2027, 2, 2, 23, 59))
        == "FREQ=WEEKLY;UNTIL=20270202T235900"
    )
    assert rule_from("FREQ=WEEKLY;COUNT=10", first, datetime(2027, 2, 3, 14), 4) == "FREQ=WEEKLY;COUNT=6"


def test_a_weekly_meeting_moved_to_thursday_keeps_meeting_on_thursdays():
    moved = rule_from("FREQ=WEEKLY;BYDAY=WE", datetime(2027, 1, 6, 10), datetime(2027, 2, 4, 10), 4)
    assert moved == "FREQ=WEEKLY;BYDAY=TH"
