"""The rules a subject access package is redacted and dated by, as pure functions: who is
taken out of free text and how it is marked, and the statutory clock."""

from __future__ import annotations

from datetime import date

import pytest

from referral_api.subject_access import clock
from referral_api.subject_access.redaction import (
    KnownPerson,
    PersonName,
    RedactionReason,
    build_redactor,
    children_named_in,
    mark,
    person_name_pattern,
    phone_pattern,
)

REFERRER = KnownPerson(
    RedactionReason.referrer, "Ms Priya Shah", ("0114 496 0123", "Priya.Shah@hillsborough-academy.example")
)
JORDAN = PersonName("Jordan", "Example")
CASEY = PersonName("Casey", "Smith")


def redact(
    text: str, *known: KnownPerson, children: tuple[PersonName, ...] = (CASEY,)
) -> tuple[str, list[str]]:
    redactor = build_redactor(list(known), children_named_in(text, children, JORDAN))
    result = redactor.redact(text)
    return result.text, [str(r) for r in result.reasons]


def test_a_mark_says_why_something_was_taken_out():
    assert mark(RedactionReason.referrer) == "[redacted: referrer]"
    assert mark(RedactionReason.other_child) == "[redacted: another child]"
    assert mark(RedactionReason.information_giver) == "[redacted: information giver]"


@pytest.mark.parametrize(
    "written",
    ["Ms Priya Shah", "Priya Shah", "priya  shah", "Ms Shah", "Mrs. Shah", "Shah, Priya", "MS PRIYA SHAH"],
)
def test_the_referrer_is_taken_out_however_their_name_is_written(written):
    text, reasons = redact(f"Reported by {written} on Friday.", REFERRER)
    assert text == "Reported by [redacted: referrer] on Friday."
    assert reasons == ["referrer"]


@pytest.mark.parametrize(
    "written", ["0114 496 0123", "01144960123", "+44 114 496 0123", "+44 (0)114 496 0123"]
)
def test_the_referrers_phone_is_taken_out_however_it_is_spaced(written):
    text, _ = redact(f"Call {written} after 4pm.", REFERRER)
    assert text == "Call [redacted: referrer] after 4pm."


def test_the_referrers_email_is_taken_out_in_any_case():
    text, _ = redact("Write to priya.shah@HILLSBOROUGH-academy.example please.", REFERRER)
    assert text == "Write to [redacted: referrer] please."


def test_a_name_inside_another_word_is_left_alone():
    text, reasons = redact("The Shahnaz family and Shahid moved.", REFERRER)
    assert (text, reasons) == ("The Shahnaz family and Shahid moved.", [])


def test_another_child_held_here_is_taken_out_by_given_and_family_name_in_either_order():
    text, reasons = redact("Seen with Casey Smith and later with SMITH, Casey; Casey alone is not matched.")
    assert text == (
        "Seen with [redacted: another child] and later with [redacted: another child]; "
        "Casey alone is not matched."
    )
    assert reasons == ["other_child"]


def test_the_subjects_own_name_is_never_redacted_even_if_another_child_shares_it():
    namesake = PersonName("jordan", "EXAMPLE")
    assert children_named_in("Jordan Example was seen.", [namesake, CASEY], JORDAN) == []
    text, reasons = redact("Jordan Example was seen.", children=(namesake,))
    assert (text, reasons) == ("Jordan Example was seen.", [])


def test_only_children_whose_names_both_appear_are_matched():
    others = [CASEY, PersonName("Riley", "Jones"), PersonName("Sam", "Casey")]
    assert children_named_in("Casey Smith and Riley were there.", others, JORDAN) == [CASEY]


def test_any_other_email_or_uk_phone_number_is_taken_out_as_contact_details():
    text, reasons = redact("Mum on 07700 900123 or (0114) 496 0999; uncle: dean@example.org.")
    hidden = "[redacted: contact details]"
    assert text == f"Mum on {hidden} or {hidden}; uncle: {hidden}."
    assert reasons == ["contact_details"]


def test_a_bracket_is_taken_with_a_number_only_when_it_closes_round_the_area_code():
    text, _ = redact("Mum (0114 496 0999) or the office on (0114) 496 0998.")
    assert text == "Mum ([redacted: contact details]) or the office on [redacted: contact details]."


def test_identifiers_and_dates_are_not_mistaken_for_phone_numbers():
    written = "NHS number 943 476 5919, seen 01/02/2026 at 16:30, ward E05010863."
    assert redact(written) == (written, [])


def test_a_known_persons_contact_keeps_their_own_reason_before_the_general_one():
    text, reasons = redact("Ring 0114 496 0123 or 0114 496 0999.", REFERRER)
    assert text == "Ring [redacted: referrer] or [redacted: contact details]."
    assert reasons == ["referrer", "contact_details"]


def test_names_and_numbers_too_short_to_match_safely_make_no_pattern():
    assert person_name_pattern("  ") is None
    assert phone_pattern("999") is None


def test_names_are_matched_literally_not_as_patterns():
    odd = KnownPerson(RedactionReason.information_giver, "A.J. (Tony) O'Neil-Smith")
    text, _ = redact("Told by A.J. (Tony) O'Neil-Smith; AxJx is someone else.", odd)
    assert text == "Told by [redacted: information giver]; AxJx is someone else."


@pytest.mark.parametrize(
    ("received", "due", "extended"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), date(2026, 4, 30)),
        (date(2028, 1, 31), date(2028, 2, 29), date(2028, 4, 30)),
        (date(2026, 3, 31), date(2026, 4, 30), date(2026, 6, 30)),
        (date(2026, 12, 6), date(2027, 1, 6), date(2027, 3, 6)),
        (date(2026, 11, 30), date(2026, 12, 30), date(2027, 2, 28)),
    ],
)
def test_a_request_is_due_a_calendar_month_after_receipt_and_three_when_extended(received, due, extended):
    assert clock.due_on(received) == due
    assert clock.extended_due_on(received) == extended


def test_a_due_date_on_a_weekend_or_bank_holiday_may_be_met_on_the_next_working_day():
    assert clock.respond_by(date(2026, 2, 28)) == date(2026, 3, 2)  # Saturday
    assert clock.respond_by(date(2026, 12, 25)) == date(
        2026, 12, 29
    )  # Christmas, then Boxing Day (Monday 28th)
    assert clock.respond_by(date(2026, 4, 30)) == date(2026, 4, 30)
