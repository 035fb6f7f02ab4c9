"""Request and response bodies for third-party information."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from referral_api.children.schemas import BirthDate, Name, NhsNumber
from referral_api.referrals.models import ConcernType, LawfulBasis
from referral_api.referrals.schemas import LawfulBasisForSharing
from safeguarding_kit.auth.principal import AgencyType


class Informant(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=200, description="e.g. youth pastor, outreach worker")
    organisation: str | None = Field(None, max_length=200)
    contact: str | None = Field(None, max_length=254, description="Phone or email for the hub to call back.")


class ChildAsKnown(BaseModel):
    """Whatever the informant knows about the child; all optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: BirthDate | None = None
    nhs_number: NhsNumber | None = None
    description: str | None = Field(None, max_length=2000, description="Appearance, age, where seen.")


class ThirdPartyInformationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_reference": "FAITH-2026-031",
                    "informant": {
                        "name": "Alex Helper",
                        "role": "Youth pastor",
                        "organisation": "St Example's Church",
                        "contact": "0114 496 0101",
                    },
                    "child": {
                        "given_name": "Jordan",
                        "family_name": "Example",
                        "date_of_birth": "2011-03-14",
                    },
                    "information": "Seen late at night outside the takeaway on London Road with adults "
                    "who drive him away; says he 'works' for them.",
                    "concern_types": ["criminal_exploitation"],
                    "lawful_basis": {
                        "basis": "safeguarding_without_consent",
                        "reason": "Telling the family could alert the adults involved.",
                    },
                }
            ]
        },
    )

    source_reference: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")
    informant: Informant
    child: ChildAsKnown
    information: str = Field(min_length=1, max_length=20_000)
    concern_types: list[ConcernType] = Field(default_factory=list, max_length=len(ConcernType))
    lawful_basis: LawfulBasisForSharing

    @model_validator(mode="after")
    def _child_described(self) -> Self:
        c = self.child
        if not any([c.given_name, c.family_name, c.nhs_number, c.description]):
            raise ValueError("say something about the child: a name, NHS number or description")
        return self


class Receipt(BaseModel):
    """All a sender ever gets back: proof the hub received the information."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "receipt_id": "3e9d8c7b-6a5f-4e4d-8c3b-2a1f0e9d8c7b",
                    "received_at": "2026-11-24T18:42:00Z",
                    "message": "Received by the safeguarding hub. Thank you: the hub will act on it and "
                    "may contact you. You will not be told the outcome.",
                }
            ]
        }
    )

    receipt_id: uuid.UUID
    received_at: datetime
    message: str


class ThirdPartyInformationRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3e9d8c7b-6a5f-4e4d-8c3b-2a1f0e9d8c7b",
                    "agency": "st-examples-church",
                    "agency_type": "voluntary",
                    "informant_name": "Alex Helper",
                    "informant_role": "Youth pastor",
                    "informant_organisation": "St Example's Church",
                    "informant_contact": "0114 496 0101",
                    "child_given_name": "Jordan",
                    "child_family_name": "Example",
                    "child_date_of_birth": "2011-03-14",
                    "child_nhs_number": None,
                    "child_description": None,
                    "information": "Seen late at night outside the takeaway on London Road.",
                    "concern_types": ["criminal_exploitation"],
                    "lawful_basis": "safeguarding_without_consent",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "received_at": "2026-11-24T18:42:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    agency: str
    agency_type: AgencyType
    informant_name: str
    informant_role: str
    informant_organisation: str | None
    informant_contact: str | None
    child_given_name: str | None
    child_family_name: str | None
    child_date_of_birth: date | None
    child_nhs_number: str | None
    child_description: str | None
    information: str
    concern_types: list[ConcernType]
    lawful_basis: LawfulBasis
    child_id: uuid.UUID | None = Field(description="The known child this was matched to, if any.")
    received_at: datetime
