"""NHS numbers and ward codes, checked as the NHS and ONS define them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral_api.identifiers import nhs_number_is_valid, normalise_nhs_number, ward_code_is_valid


@pytest.mark.parametrize("number", ["9434765919", "9434765870", "4010232137", "9000000009"])
def test_published_example_nhs_numbers_are_valid(number):
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize("number", ["9434765918", "943476591", "94347659190", "abcdefghij", "", "1000000010"])
def test_wrong_checksum_length_or_characters_are_invalid(number):
    assert not nhs_number_is_valid(number)


@given(st.from_regex(r"\A\d{9}\Z"))
def test_exactly_one_check_digit_completes_nine_digits_unless_none_does(stem):
    completions = [d for d in "0123456789" if nhs_number_is_valid(stem + d)]
    assert len(completions) <= 1


def test_spaces_and_hyphens_are_ignored():
    assert normalise_nhs_number("943 476-5919") == "9434765919"


def test_ward_codes_are_english_or_welsh_ons_codes():
    assert ward_code_is_valid("E05010863")
    assert ward_code_is_valid("W05000981")
    assert not ward_code_is_valid("S13002516")
    assert not ward_code_is_valid("E0501086")


@pytest.mark.parametrize(
    "written",
    ["９４３４７６５９１９", "٩٤٣٤٧٦٥٩١٩", "۹۴۳۴۷۶۵۹۱۹", "९४३४७६५९१९", "943\u2013476\u20135919"],  # noqa: RUF001
)
def test_digits_of_other_scripts_and_dashes_become_the_ascii_number(written):
    assert normalise_nhs_number(written) == "9434765919"
    assert nhs_number_is_valid(normalise_nhs_number(written))


def test_only_ascii_digits_are_a_valid_nhs_number_or_ward_code():
    assert not nhs_number_is_valid("９４３４７６５９１９")  # noqa: RUF001 - full-width digits, not normalised
    assert not nhs_number_is_valid("94347659¹⁹")
    assert not ward_code_is_valid("E05０１０８６３")  # noqa: RUF001
