"""Checks on the identifiers partner systems send."""

from __future__ import annotations

import re

_WARD_CODE = re.compile(r"^[EW]05\d{6}$")


def normalise_nhs_number(value: str) -> str:
    """The ten digits of an NHS number written with or without spaces or hyphens."""
    return re.sub(r"[\s-]", "", value)


def nhs_number_is_valid(value: str) -> bool:
    """True when ``value`` is ten digits whose last is the modulus 11 check digit."""
    if not re.fullmatch(r"\d{10}", value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def ward_code_is_valid(value: str) -> bool:
    """True for an ONS electoral ward code in England (E05...) or Wales (W05...)."""
    return bool(_WARD_CODE.match(value))
