"""Closed vocabularies of the referral service's records."""

from __future__ import annotations

from enum import StrEnum


class Gender(StrEnum):
    female = "female"
    male = "male"
    another_gender = "another_gender"
    not_known = "not_known"


class Ethnicity(StrEnum):
    """The ONS 2021 census categories for England and Wales, plus not stated."""

    white_british = "white_british"  # English, Welsh, Scottish, Northern Irish or British
    white_irish = "white_irish"
    white_gypsy_or_irish_traveller = "white_gypsy_or_irish_traveller"
    white_roma = "white_roma"
    white_other = "white_other"
    mixed_white_and_black_caribbean = "mixed_white_and_black_caribbean"
    mixed_white_and_black_african = "mixed_white_and_black_african"
    mixed_white_and_asian = "mixed_white_and_asian"
    mixed_other = "mixed_other"
    asian_indian = "asian_indian"
    asian_pakistani = "asian_pakistani"
    asian_bangladeshi = "asian_bangladeshi"
    asian_chinese = "asian_chinese"
    asian_other = "asian_other"
    black_african = "black_african"
    black_caribbean = "black_caribbean"
    black_other = "black_other"
    other_arab = "other_arab"
    other_any = "other_any"
    not_stated = "not_stated"
