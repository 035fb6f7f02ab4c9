"""Request and response bodies for persons and places of concern."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue, model_validator

from referral_api.children.schemas import WardCode
from referral_api.concerns.models import PlaceType
from referral_api.vocabularies import Ethnicity, Gender

PERSON_EXAMPLE: dict[str, JsonValue] = {
    "name": None,
    "alias": "Shadz",
    "approximate_age": 24,
    "gender": "male",
    "ethnicity": "white_other",
    "description": "Drives a grey hatchback; seen outside schools at 15:15.",
}
PLACE_EXAMPLE: dict[str, JsonValue] = {
    "place_type": "takeaway",
    "name": "Late-night takeaway, London Road",
    "street": "London Road",
    "ward_code": "E05010863",
    "description": "Children seen being given food and lifts after midnight.",
}


class PersonCreate(BaseModel):
    """Recorded so offenders can be profiled (ethnicity included, as the partnership asks)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [PERSON_EXAMPLE]}
    )

    name: str | None = Field(None, max_length=200)
    alias: str | None = Field(None, max_length=200)
    approximate_age: int | None = Field(None, ge=10, le=100)
    gender: Gender = Gender.not_known
    ethnicity: Ethnicity = Ethnicity.not_stated
    description: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _named_somehow(self) -> Self:
        if not (self.name or self.alias):
            raise ValueError("give a name or an alias")
        return self


class PersonUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"alias": "Shadz, Sh4dz", "approximate_age": 25}]},
    )

    name: str | None = Field(None, max_length=200)
    alias: str | None = Field(None, max_length=200)
    approximate_age: int | None = Field(None, ge=10, le=100)
    gender: Gender | None = None
    ethnicity: Ethnicity | None = None
    description: str | None = Field(None, max_length=4000)


class PlaceCreate(BaseModel):
    """A place where exploitation happens - never a child's home. No house numbers."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [PLACE_EXAMPLE]}
    )

    place_type: PlaceType
    name: str = Field(min_length=2, max_length=200)
    street: str | None = Field(
        None, max_length=200, pattern=r"^[^0-9]*$", description="Street name only, no number."
    )
    ward_code: WardCode | None = None
    description: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _online_has_no_ward(self) -> Self:
        if self.place_type is PlaceType.online_platform and (self.ward_code or self.street):
            raise ValueError("an online platform has no street or ward")
        return self


class LinkCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"}]}
    )

    child_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = Field(None, description="For a place: a person of concern seen there.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(x is not None for x in (self.child_id, self.referral_id, self.person_id)) != 1:
            raise ValueError("link exactly one of child_id, referral_id, person_id")
        return self


class PersonRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                    **PERSON_EXAMPLE,
                    "recorded_by_agency": "south-yorkshire-police",
                    "child_ids": ["5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"],
                    "referral_ids": [],
                    "created_at": "2026-11-24T09:15:00Z",
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    name: str | None
    alias: str | None
    approximate_age: int | None
    gender: Gender
    ethnicity: Ethnicity
    description: str | None
    recorded_by_agency: str
    child_ids: list[uuid.UUID] = Field(default_factory=list)
    referral_ids: list[uuid.UUID] = Field(default_factory=list)
    created_at: datetime
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to update.",
    )


class PlaceRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "8e7d6c5b-4a39-4281-9706-5e4d3c2b1a09",
                    **PLACE_EXAMPLE,
                    "recorded_by_agency": "south-yorkshire-police",
                    "child_ids": [],
                    "person_ids": ["9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"],
                    "created_at": "2026-11-24T09:15:00Z",
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    place_type: PlaceType
    name: str
    street: str | None
    ward_code: str | None
    description: str | None
    recorded_by_agency: str
    child_ids: list[uuid.UUID] = Field(default_factory=list)
    person_ids: list[uuid.UUID] = Field(default_factory=list)
    created_at: datetime
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to update.",
    )
