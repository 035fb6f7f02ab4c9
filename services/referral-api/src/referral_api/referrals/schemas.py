"""Request and response bodies for referrals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, JsonValue, model_validator

from referral_api.children.schemas import CHILD_EXAMPLE, ChildDetails
from referral_api.referrals.models import ConcernType, LawfulBasis, ReferralStatus, Urgency
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcTimestamp

MAX_SUMMARY = 20_000

REFERRER_EXAMPLE: dict[str, JsonValue] = {
    "name": "Sam Teacher",
    "role": "Designated Safeguarding Lead",
    "phone": "0114 496 0000",
    "email": "dsl@hillsborough-academy.example",
}
CREATE_EXAMPLE: dict[str, JsonValue] = {
    "source_reference": "SCH-2026-00417",
    "child": CHILD_EXAMPLE,
    "referrer": REFERRER_EXAMPLE,
    "concern_types": ["criminal_exploitation", "county_lines"],
    "summary": "Year 10 pupil seen getting into cars with older males after school; new phone and "
    "trainers; missing from lessons three times this month.",
    "lawful_basis": {
        "basis": "safeguarding_without_consent",
        "reason": "Asking consent could put the child at greater risk from the adults involved.",
    },
    "urgency": "urgent",
}


class Referrer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=200, description="e.g. Designated Safeguarding Lead")
    phone: str | None = Field(None, max_length=40, pattern=r"^[0-9+() -]{6,40}$")
    email: EmailStr | None = None


class LawfulBasisForSharing(BaseModel):
    """Why this information may be shared: consent, or safeguarding without consent
    with the reason (UK GDPR and the Data Protection Act 2018 allow it to protect a child)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    basis: LawfulBasis
    reason: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _reason_when_without_consent(self) -> Self:
        if self.basis is LawfulBasis.safeguarding_without_consent and not (
            self.reason and len(self.reason) >= 10
        ):
            raise ValueError("sharing without consent needs the reason (at least 10 characters)")
        return self


class ReferralCreate(BaseModel):
    """What a partner system sends. Give the child's details (matched to a known child
    when possible) or the `child_id` of a child you can already see. Unknown fields
    are refused, so a caller cannot set `status`, `agency` or an id."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREATE_EXAMPLE]})

    source_reference: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Your system's own reference; unique per agency. Resending it is a safe retry.",
    )
    child: ChildDetails | None = None
    child_id: uuid.UUID | None = Field(None, description="A child you can see, from GET /api/v1/children.")
    referrer: Referrer
    concern_types: list[ConcernType] = Field(min_length=1, max_length=len(ConcernType))
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY, description="What was seen or heard.")
    lawful_basis: LawfulBasisForSharing
    urgency: Urgency = Urgency.routine

    @model_validator(mode="after")
    def _one_child(self) -> Self:
        if (self.child is None) == (self.child_id is None):
            raise ValueError("give either child (their details) or child_id, not both")
        if len(set(self.concern_types)) != len(self.concern_types):
            raise ValueError("concern_types lists a concern twice")
        return self


class Allocation(BaseModel):
    team: str
    worker: str | None
    agency: str | None


class ReferralRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1c2d1e-8a4b-4c7e-9d2f-3b5a7c9e1f20",
                    "child_id": "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b",
                    "agency": "sheffield-schools",
                    "agency_type": "education",
                    "source_reference": "SCH-2026-00417",
                    "referrer": REFERRER_EXAMPLE,
                    "concern_types": ["county_lines", "criminal_exploitation"],
                    "summary": CREATE_EXAMPLE["summary"],
                    "lawful_basis": CREATE_EXAMPLE["lawful_basis"],
                    "urgency": "urgent",
                    "status": "received",
                    "received_at": "2026-11-24T09:15:00Z",
                    "decision_due_at": "2026-11-25T09:15:00Z",
                    "decided_at": None,
                    "decision_overdue": False,
                    "first_contact_at": None,
                    "allocation": None,
                    "signposted_to": None,
                    "previous_referrals": 1,
                    "version": 1,
                }
            ]
        }
    )

    id: uuid.UUID
    child_id: uuid.UUID
    agency: str
    agency_type: AgencyType
    source_reference: str | None
    referrer: Referrer
    concern_types: list[ConcernType]
    summary: str
    lawful_basis: LawfulBasisForSharing
    urgency: Urgency
    status: ReferralStatus
    received_at: datetime
    decision_due_at: datetime = Field(description="Decision due within 1 working day of receipt.")
    decided_at: datetime | None
    decision_overdue: bool
    first_contact_at: datetime | None
    allocation: Allocation | None
    signposted_to: str | None
    previous_referrals: int = Field(description="Earlier referrals about the same child (repeat referrals).")
    version: int = Field(description="Also sent as the ETag; send it back in If-Match to update.")


class TransitionCreate(BaseModel):
    """Move a referral to its next status."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"to": "screening", "reason": "Screening by the hub duty team."},
                {
                    "to": "allocated",
                    "reason": "Meets threshold for CE assessment.",
                    "allocated_team": "Exploitation Team North",
                    "allocated_worker": "worker-4411",
                },
                {
                    "to": "signposted",
                    "reason": "Below threshold; youth offer fits.",
                    "signposted_to": "Community Youth Team",
                },
            ]
        },
    )

    to: ReferralStatus
    reason: str | None = Field(None, max_length=4000)
    allocated_team: str | None = Field(None, min_length=1, max_length=200)
    allocated_worker: str | None = Field(None, min_length=1, max_length=200)
    allocated_agency: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="Agency given the case, if not the caller's: an agency of the partnership "
        "agreement (`GET /api/v1/partnership`), which may then read the child's record.",
    )
    signposted_to: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _what_each_step_needs(self) -> Self:
        if self.to is ReferralStatus.allocated and not self.allocated_team:
            raise ValueError("allocating needs allocated_team")
        if self.to is ReferralStatus.signposted and not self.signposted_to:
            raise ValueError("signposting needs signposted_to (e.g. Community Youth Team)")
        if self.to in (ReferralStatus.no_further_action, ReferralStatus.closed) and not self.reason:
            raise ValueError(f"{self.to.value} needs a reason")
        return self


class FirstContactCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"contacted_at": "2026-11-24T15:30:00Z"}]}
    )

    contacted_at: UtcTimestamp = Field(description="When a worker first spoke with the child.")


class ReferralEventRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "from_status": "screening",
                    "to_status": "allocated",
                    "actor_sub": "jane.manager@sheffield.gov.example",
                    "actor_agency": "sheffield-social-care",
                    "reason": "Meets threshold for CE assessment.",
                    "occurred_at": "2026-11-24T11:02:00Z",
                }
            ]
        },
    )

    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor_sub: str
    actor_agency: str
    reason: str | None
    occurred_at: datetime
