"""Request and response bodies for children."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, JsonValue, field_validator
from pydantic.json_schema import SkipJsonSchema

from referral_api.identifiers import nhs_number_is_valid, normalise_nhs_number, ward_code_is_valid
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.db import utc_now

OLDEST_AGE_YEARS = 25  # care leavers are supported to 25; the partnership's work stops there

CHILD_EXAMPLE: dict[str, JsonValue] = {
    "given_name": "Jordan",
    "family_name": "Example",
    "date_of_birth": "2011-03-14",
    "gender": "male",
    "ethnicity": "mixed_white_and_black_caribbean",
    "looked_after": False,
    "sen_or_disability": True,
    "school": "Hillsborough Academy",
    "home_ward_code": "E05010863",
    "nhs_number": "9434765919",
    "police_reference": "SYP-2026-118842",
    "local_authority_reference": "LCS-448812",
}


def _birth_date_not_in_future(value: date) -> date:
    if value > utc_now().date():
        raise ValueError("date of birth is in the future")
    return value


def _plausible_birth_date(value: date) -> date:
    # A new referral is about someone the partnership works with now: 25 or younger today.
    today = utc_now().date()
    _birth_date_not_in_future(value)
    if today.year - value.year > OLDEST_AGE_YEARS + 1:
        raise ValueError(f"date of birth makes the person older than {OLDEST_AGE_YEARS}")
    return value


def _nhs_number(value: str) -> str:
    digits = normalise_nhs_number(value)
    if not nhs_number_is_valid(digits):
        raise ValueError("not a valid NHS number (ten digits with a modulus 11 check digit)")
    return digits


def _ward_code(value: str) -> str:
    if not ward_code_is_valid(value):
        raise ValueError("not an ONS ward code (E05 or W05 followed by six digits)")
    return value


BirthDate = Annotated[date, AfterValidator(_plausible_birth_date)]
# A migrated referral's child may be any age today; their age at the referral is checked
# against the referral's receipt instead (referrals.schemas.MigratedReferralCreate).
HistoricBirthDate = Annotated[date, AfterValidator(_birth_date_not_in_future)]
NhsNumber = Annotated[
    str,
    AfterValidator(_nhs_number),
    Field(max_length=14, description="Ten digits with a valid modulus 11 check digit; spaces allowed."),
]
WardCode = Annotated[
    str, AfterValidator(_ward_code), Field(max_length=9, description="ONS ward code, e.g. E05010863.")
]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Reference = Annotated[str, Field(min_length=1, max_length=50)]


class ChildDetails(BaseModel):
    """What a partner system knows about a child. Unknown fields are refused."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [CHILD_EXAMPLE]}
    )

    given_name: Name
    family_name: Name
    date_of_birth: BirthDate
    gender: Gender
    ethnicity: Ethnicity = Ethnicity.not_stated
    looked_after: bool = False
    sen_or_disability: bool = False
    school: str | None = Field(None, max_length=200)
    home_ward_code: WardCode | None = None
    nhs_number: NhsNumber | None = None
    police_reference: Reference | None = None
    local_authority_reference: Reference | None = None


class HistoricChildDetails(ChildDetails):
    """A child's details in a migrated historic referral: the person may be older than
    25 today; they must have been 25 or younger when the referral was received."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**CHILD_EXAMPLE, "date_of_birth": "1996-02-11"}]}
    )

    date_of_birth: HistoricBirthDate


class ChildUpdate(BaseModel):
    """Fields to change; those left out stay as they are. Identifiers change by merge only."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"looked_after": True, "school": "Park Hill Pupil Referral Unit"}]},
    )

    # Every child has these: left out, they stay as they are; null is refused (422 naming
    # the field), so the spec shows them as not nullable.
    given_name: Name | SkipJsonSchema[None] = None
    family_name: Name | SkipJsonSchema[None] = None
    gender: Gender | SkipJsonSchema[None] = None
    ethnicity: Ethnicity | SkipJsonSchema[None] = None
    looked_after: bool | SkipJsonSchema[None] = None
    sen_or_disability: bool | SkipJsonSchema[None] = None
    # These may be cleared with null.
    school: str | None = Field(None, max_length=200)
    home_ward_code: WardCode | None = None
    police_reference: Reference | None = None
    local_authority_reference: Reference | None = None

    @field_validator("given_name", "family_name", "gender", "ethnicity", "looked_after", "sen_or_disability")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value


class ChildMerge(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "duplicate_id": "2c1b7e0a-5d4f-4e3a-9b8c-7d6e5f4a3b21",
                    "reason": "Same child: NHS number confirmed with the GP.",
                }
            ]
        },
    )

    duplicate_id: uuid.UUID = Field(
        description="The record to fold into this one; it is kept, marked merged."
    )
    reason: str = Field(
        min_length=5,
        max_length=1000,
        description="Why these records are one child (how it was confirmed); every merge needs one, "
        "above all of records whose date of birth or family name differ. Kept in both records' audit.",
    )


class ChildRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    **CHILD_EXAMPLE,
                    "merged_into_id": None,
                    "referral_count": 2,
                    "possible_duplicate_ids": [],
                    "created_at": "2026-11-24T09:15:00Z",
                    "updated_at": "2026-11-24T09:15:00Z",
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    given_name: str
    family_name: str
    date_of_birth: date
    gender: Gender
    ethnicity: Ethnicity
    looked_after: bool
    sen_or_disability: bool
    school: str | None
    home_ward_code: str | None
    nhs_number: str | None
    police_reference: str | None
    local_authority_reference: str | None
    merged_into_id: uuid.UUID | None = Field(
        None, description="Set when this record was merged into another."
    )
    referral_count: int = Field(
        0, description="Referrals about this child; more than one is a repeat referral."
    )
    possible_duplicate_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="Other records with the same names and date of birth, or the same NHS number, "
        "for a manager to review and merge (shown to the hub's own teams only).",
    )
    created_at: datetime
    updated_at: datetime
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to update.",
    )
