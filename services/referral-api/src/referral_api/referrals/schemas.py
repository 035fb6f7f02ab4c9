"""Request and response bodies for referrals."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from referral_api.children.schemas import CHILD_EXAMPLE, OLDEST_AGE_YEARS, ChildDetails, HistoricChildDetails
from referral_api.referrals.models import ConcernType, LawfulBasis, ReferralStatus, Urgency
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcTimestamp, utc_now
from safeguarding_kit.working_days import LONDON

MAX_SUMMARY = 20_000
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"  # an agency's or a service's slug in the agreement

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
                    "decision_due_at": "2026-11-26T00:00:00Z",
                    "decided_at": None,
                    "decision_overdue": False,
                    "first_contact_at": None,
                    "allocation": None,
                    "signposted_to": None,
                    "previous_referrals": 1,
                    "migrated": False,
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
    decision_due_at: datetime = Field(
        description="A decision is due by the end of the next working day after receipt in England "
        "(weekends and bank holidays skipped): this is midnight in Europe/London starting the day "
        "after that working day. A decision made at or before it is on time."
    )
    decided_at: datetime | None
    decision_overdue: bool
    first_contact_at: datetime | None
    allocation: Allocation | None
    signposted_to: str | None = Field(
        description="The slug of the agreement's service the child was signposted or referred on "
        "to (its name: `GET /api/v1/partnership`). Referrals signposted before the partnership "
        "kept a closed list hold the free text recorded then."
    )
    previous_referrals: int = Field(description="Earlier referrals about the same child (repeat referrals).")
    migrated: bool = Field(
        description="Loaded from an earlier system with its original times "
        "(`POST /api/v1/referrals/migrated`), not received live."
    )
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to update.",
    )


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
                    "signposted_to": "community-youth-team",
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
        pattern=SLUG_PATTERN,
        description="Agency given the case, if not the caller's: an agency of the partnership "
        "agreement (`GET /api/v1/partnership`), which may then read the child's record.",
    )
    signposted_to: str | None = Field(
        None,
        pattern=SLUG_PATTERN,
        description="Where the child is signposted or referred on to: the slug of one of the "
        "partnership agreement's `services` (`GET /api/v1/partnership`), e.g. "
        "`community-youth-team`; another value is 422.",
    )

    @model_validator(mode="after")
    def _what_each_step_needs(self) -> Self:
        if self.to is ReferralStatus.allocated and not self.allocated_team:
            raise ValueError("allocating needs allocated_team")
        if self.to is ReferralStatus.signposted and not self.signposted_to:
            raise ValueError("signposting needs signposted_to (e.g. community-youth-team)")
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


class MigratedOutcome(StrEnum):
    """The decision a migrated referral had in its source system."""

    allocated = "allocated"
    signposted = "signposted"
    no_further_action = "no_further_action"


MIGRATED_EXAMPLE: dict[str, JsonValue] = {
    "source_reference": "CE-TRACKER-2023-0117",
    "source_agency": "sheffield-schools",
    "received_at": "2023-05-10T09:30:00+01:00",
    "child": {**CHILD_EXAMPLE, "date_of_birth": "2008-02-11"},
    "referrer": REFERRER_EXAMPLE,
    "concern_types": ["criminal_exploitation", "county_lines"],
    "summary": "Year 10 pupil seen getting into cars with older males after school; new phone.",
    "lawful_basis": {
        "basis": "safeguarding_without_consent",
        "reason": "Asking consent could put the child at greater risk from the adults involved.",
    },
    "urgency": "urgent",
    "outcome": "signposted",
    "decided_at": "2023-05-11T14:00:00+01:00",
    "decision_reason": "Below threshold for statutory work; youth offer fits.",
    "signposted_to": "community-youth-team",
    "first_contact_at": "2023-05-15T16:00:00+01:00",
    "closed_at": "2023-08-30T12:00:00+01:00",
    "closure_reason": "Engaging with the youth team; no further concerns from school.",
}

# Which fields each outcome takes: another outcome's field is refused, so nothing in the
# source system's row is silently dropped.
_OUTCOME_FIELDS: dict[str, MigratedOutcome] = {
    "allocated_team": MigratedOutcome.allocated,
    "allocated_worker": MigratedOutcome.allocated,
    "allocated_agency": MigratedOutcome.allocated,
    "signposted_to": MigratedOutcome.signposted,
}


class MigratedReferralCreate(BaseModel):
    """A referral from the partnership's earlier system (e.g. its spreadsheet tracker),
    with its original times and outcome. Times have an offset and none is in the future;
    received_at <= decided_at <= closed_at, and first contact is not before receipt.
    The child may be older than 25 today but was 25 or younger when it was received.
    Unknown fields are refused."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [MIGRATED_EXAMPLE]}
    )

    source_reference: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="The source system's reference for this referral, unique per source agency: "
        "loading it again with the same body answers the first answer again; with another body, 422.",
    )
    source_agency: str = Field(
        pattern=SLUG_PATTERN,
        description="The agency that made the referral: an agency of the partnership agreement "
        "(`GET /api/v1/partnership`); the referral counts under its type in figures.",
    )
    received_at: UtcTimestamp = Field(description="When the referral was originally received.")
    child: HistoricChildDetails | None = None
    child_id: uuid.UUID | None = Field(None, description="A child you can see, from GET /api/v1/children.")
    referrer: Referrer | None = Field(
        None, description="Who referred, if the source system kept it (stored as not recorded otherwise)."
    )
    concern_types: list[ConcernType] = Field(min_length=1, max_length=len(ConcernType))
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY, description="What was seen or heard.")
    lawful_basis: LawfulBasisForSharing
    urgency: Urgency = Urgency.routine
    outcome: MigratedOutcome | None = Field(
        None, description="The decision, if one was made; with decided_at."
    )
    decided_at: UtcTimestamp | None = Field(None, description="When the decision was made.")
    decision_reason: str | None = Field(
        None, max_length=4000, description="Why; required for no_further_action."
    )
    allocated_team: str | None = Field(None, min_length=1, max_length=200, description="For allocated.")
    allocated_worker: str | None = Field(None, min_length=1, max_length=200)
    allocated_agency: str | None = Field(
        None,
        pattern=SLUG_PATTERN,
        description="For allocated (required): the agency given the case, an agency of the agreement.",
    )
    signposted_to: str | None = Field(
        None,
        pattern=SLUG_PATTERN,
        description="For signposted: the slug of one of the agreement's `services`.",
    )
    first_contact_at: UtcTimestamp | None = Field(
        None, description="When a worker first spoke with the child."
    )
    closed_at: UtcTimestamp | None = Field(
        None, description="When the referral was closed (after its decision)."
    )
    closure_reason: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _consistent_history(self) -> Self:
        problems = list(self._problems())
        if problems:
            # Each problem at its own field, so a caller (or the CSV importer) can say which.
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("migrated_referral", message),
                        loc=loc,
                        input=self._value_at(loc),
                    )
                    for loc, message in problems
                ],
            )
        return self

    def _value_at(self, loc: tuple[str, ...]) -> object:
        value: object = self
        for step in loc:
            value = getattr(value, step, None)
        return value

    def _problems(self) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if (self.child is None) == (self.child_id is None):
            problems.append(((), "give either child (their details) or child_id, not both"))
        if len(set(self.concern_types)) != len(self.concern_types):
            problems.append((("concern_types",), "lists a concern twice"))
        now = utc_now()
        times = {
            "received_at": self.received_at,
            "decided_at": self.decided_at,
            "first_contact_at": self.first_contact_at,
            "closed_at": self.closed_at,
        }
        for field, value in times.items():
            if value is not None and value > now:
                problems.append(((field,), "is in the future"))
        if self.decided_at is not None and self.decided_at < self.received_at:
            problems.append((("decided_at",), "is before received_at"))
        if self.first_contact_at is not None and self.first_contact_at < self.received_at:
            problems.append((("first_contact_at",), "is before received_at"))
        if self.closed_at is not None:
            if self.decided_at is None:
                problems.append((("closed_at",), "a referral is closed after its decision: give decided_at"))
            elif self.closed_at < self.decided_at:
                problems.append((("closed_at",), "is before decided_at"))
        problems += self._outcome_problems()
        if self.child is not None:
            problems += _age_at_referral_problems(self.child, self.received_at)
        return problems

    def _outcome_problems(self) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if self.outcome is None and self.decided_at is not None:
            problems.append((("outcome",), "decided_at needs the outcome"))
        if self.outcome is not None and self.decided_at is None:
            problems.append((("decided_at",), f"the outcome {self.outcome.value} needs decided_at"))
        if self.outcome is MigratedOutcome.allocated and not self.allocated_team:
            problems.append((("allocated_team",), "allocated needs allocated_team"))
        if self.outcome is MigratedOutcome.allocated and not self.allocated_agency:
            problems.append((("allocated_agency",), "allocated needs allocated_agency"))
        if self.outcome is MigratedOutcome.signposted and not self.signposted_to:
            problems.append((("signposted_to",), "signposted needs signposted_to"))
        if self.outcome is MigratedOutcome.no_further_action and not self.decision_reason:
            problems.append((("decision_reason",), "no_further_action needs decision_reason"))
        for field, outcome in _OUTCOME_FIELDS.items():
            if getattr(self, field) is not None and self.outcome is not outcome:
                problems.append(((field,), f"only for the outcome {outcome.value}"))
        return problems


def _age_at_referral_problems(
    child: ChildDetails, received_at: datetime
) -> list[tuple[tuple[str, ...], str]]:
    day = received_at.astimezone(LONDON).date()
    born = child.date_of_birth
    if born > day:
        return [(("child", "date_of_birth"), "is after received_at")]
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    if age > OLDEST_AGE_YEARS:
        return [
            (
                ("child", "date_of_birth"),
                f"makes the person {age} when the referral was received; "
                f"the partnership's referrals are of people up to {OLDEST_AGE_YEARS}",
            )
        ]
    return []
