"""Checks on the identifiers partner systems send."""

from __future__ import annotations

import re
import unicodedata

_WARD_CODE = re.compile(r"^[EW]05[0-9]{6}$")
# Spaces and the dashes people and systems write between the groups of digits.
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]")


def _ascii_digit(character: str) -> str:
    """``character`` as an ASCII digit when it is a decimal digit of any script
    (full-width, Arabic-Indic, Devanagari...), else unchanged."""
    if character.isdecimal() and not character.isascii():
        return str(unicodedata.decimal(character))
    return character


def normalise_nhs_number(value: str) -> str:
    """The ten digits of an NHS number written with or without spaces or hyphens, in ASCII
    whatever script's digits it was written in, so one number is always stored and
    matched as the same string."""
    return "".join(_ascii_digit(c) for c in _SEPARATORS.sub("", value))


def nhs_number_is_valid(value: str) -> bool:
    """True when ``value`` is ten ASCII digits whose last is the modulus 11 check digit."""
    if not re.fullmatch(r"[0-9]{10}", value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def ward_code_is_valid(value: str) -> bool:
    """True for an ONS electoral ward code in England (E05...) or Wales (W05...), in ASCII."""
    return bool(_WARD_CODE.match(value))
