"""Request and response bodies for subject access requests, and the package's own shape
(kept as it was assembled, and served to the reviewer)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, JsonValue, model_validator

from referral_api.subject_access.models import (
    RequesterRelationship,
    RequestStatus,
    ReviewOutcome,
    SubjectType,
)
from referral_api.subject_access.redaction import RedactionReason
from safeguarding_kit.db import utc_now
from safeguarding_kit.working_days import LONDON

REQUEST_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CHILD_ID = "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"
REFERRAL_ITEM_ID = "referral:6f1c2d1e-8a4b-4c7e-9d2f-3b5a7c9e1f20"
INFORMATION_ITEM_ID = "third_party_information:3e9d8c7b-6a5f-4e4d-8c3b-2a1f0e9d8c7b"
MIN_REASONS = 10


def london_today() -> date:
    """Today's date in England, the day requests are received and fall due by."""
    return utc_now().astimezone(LONDON).date()


def _not_in_the_future(value: date) -> date:
    if value > london_today():
        raise ValueError("the request cannot have been received after today")
    return value


ReceivedOn = Annotated[date, AfterValidator(_not_in_the_future)]


class SourceService(StrEnum):
    """The service an item of a package came from."""

    referral_service = "referral-service"
    risk_service = "risk-service"
    meetings_service = "meetings-service"


class PackageItemKind(StrEnum):
    child_record = "child_record"
    referral = "referral"
    referral_step = "referral_step"
    third_party_information = "third_party_information"
    missing_episode = "missing_episode"
    support = "support"
    support_contact = "support_contact"
    concern_link = "concern_link"
    disruption_link = "disruption_link"
    person_record = "person_record"
    intelligence_note = "intelligence_note"
    person_link = "person_link"
    access_log = "access_log"
    current_risk = "current_risk"
    risk_assessment = "risk_assessment"
    agenda_item = "agenda_item"
    meeting_action = "meeting_action"


class FlagKind(StrEnum):
    """Why an item asks for the reviewer's attention.

    ``serious_harm``: the social work exemption (DPA 2018 Sch. 3 Part 3) may apply, as its
    disclosure could cause serious harm to the subject or someone else: the reviewer decides.
    ``other_people_named``: other children's names were found and redacted; the rest of the
    text may still identify them: the reviewer decides. ``police_intelligence``: held for the
    prevention and detection of crime (DPA 2018 Sch. 2 para. 2); the recording agency decides,
    never included by default. ``free_text``: written by a person, it may name people the
    platform cannot recognise: read it before release."""

    serious_harm = "serious_harm"
    other_people_named = "other_people_named"
    police_intelligence = "police_intelligence"
    free_text = "free_text"


class ItemOutcome(StrEnum):
    disclose = "disclose"
    withhold = "withhold"


class PackageField(BaseModel):
    """One line of an item as the requester would read it."""

    label: str
    value: str | None = Field(
        description="The value, or where it was taken out the mark saying why (`[redacted: referrer]`); "
        "free text keeps its marks in place."
    )
    redacted: RedactionReason | None = Field(None, description="The whole value was taken out, and why.")
    redactions: list[RedactionReason] = Field(
        default_factory=list, description="Why each mark in this free text is there."
    )
    free_text: bool = False


class ItemFlag(BaseModel):
    kind: FlagKind
    note: str


class PackageItem(BaseModel):
    """One record, or one part of a record, held about the subject."""

    id: str = Field(description="Stable within the package; decisions name items by it.")
    source: SourceService
    kind: PackageItemKind
    title: str
    recorded_at: datetime | None
    fields: list[PackageField]
    flags: list[ItemFlag] = Field(default_factory=list)
    decision_required: bool = Field(
        description="The reviewer must decide `disclose` or `withhold` for this item before a release."
    )
    releasable: bool = Field(
        True,
        description="False for police intelligence: never released from this platform (the recording "
        "agency answers for it); a `disclose` decision on it is refused.",
    )


PACKAGE_ITEMS_EXAMPLE: list[JsonValue] = [
    {
        "id": REFERRAL_ITEM_ID,
        "source": "referral-service",
        "kind": "referral",
        "title": "Referral from Sheffield Schools Safeguarding Service",
        "recorded_at": "2026-11-24T09:15:00Z",
        "fields": [
            {
                "label": "Referring agency",
                "value": "Sheffield Schools Safeguarding Service",
                "redacted": None,
                "redactions": [],
                "free_text": False,
            },
            {
                "label": "Referrer",
                "value": "[redacted: referrer]",
                "redacted": "referrer",
                "redactions": [],
                "free_text": False,
            },
            {
                "label": "What was seen or heard",
                "value": "Seen getting into cars with older males after school with "
                "[redacted: another child].",
                "redacted": None,
                "redactions": ["other_child"],
                "free_text": True,
            },
        ],
        "flags": [
            {
                "kind": "other_people_named",
                "note": "Other children's names were found and redacted; the rest may still identify them.",
            }
        ],
        "decision_required": True,
        "releasable": True,
    },
    {
        "id": INFORMATION_ITEM_ID,
        "source": "referral-service",
        "kind": "third_party_information",
        "title": "Information from a third party",
        "recorded_at": "2026-11-24T18:42:00Z",
        "fields": [
            {
                "label": "Information giver",
                "value": "[redacted: information giver]",
                "redacted": "information_giver",
                "redactions": [],
                "free_text": False,
            },
            {
                "label": "Information",
                "value": "Seen late at night outside the takeaway on London Road.",
                "redacted": None,
                "redactions": [],
                "free_text": True,
            },
        ],
        "flags": [
            {
                "kind": "serious_harm",
                "note": "Given in confidence by a third party: decide whether disclosing it could cause "
                "serious harm.",
            }
        ],
        "decision_required": True,
        "releasable": True,
    },
]


class SubjectAccessRequestCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "subject_type": "child",
                    "subject_id": CHILD_ID,
                    "reference": "IG-SAR-2026-0113",
                    "received_on": "2026-12-01",
                    "requester_relationship": "parent_or_carer",
                    "identity_verified": True,
                }
            ]
        },
    )

    subject_type: SubjectType
    subject_id: uuid.UUID = Field(
        description="The child (`GET /api/v1/children`) or the person of concern "
        "(`GET /api/v1/persons-of-concern`) the request is about."
    )
    reference: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Your information governance case reference, if any.",
    )
    received_on: ReceivedOn | None = Field(
        None,
        description="When the request reached the partnership (today, in England, when omitted); the "
        "statutory month runs from it.",
    )
    requester_relationship: RequesterRelationship = Field(
        description="Who asked: the subject themselves, a parent or carer, a legal representative..."
    )
    identity_verified: bool = Field(
        description="The requester's identity (and authority, for someone acting for the subject) was "
        "checked. Nothing is released for an unverified request."
    )


class ExtensionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "reason": "Complex request: records held by three services and police intelligence "
                    "to be reviewed with South Yorkshire Police."
                }
            ]
        },
    )

    reason: str = Field(
        min_length=20,
        max_length=2000,
        description="Why the request is complex or numerous (UK GDPR Art. 12(3)); tell the requester "
        "within the first month.",
    )


class ItemDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(max_length=200, description="An item's `id` in the package.")
    decision: ItemOutcome


class ReviewDecisionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "outcome": "release",
                    "reasons": "Identity checked; referrer and informant redacted; the informant's account "
                    "withheld under the social work exemption after consulting the allocated worker.",
                    "items": [
                        {"item_id": REFERRAL_ITEM_ID, "decision": "disclose"},
                        {"item_id": INFORMATION_ITEM_ID, "decision": "withhold"},
                    ],
                }
            ]
        },
    )

    outcome: ReviewOutcome = Field(
        description="`release` the package as decided item by item, or `withhold` it all (with the "
        "exemption in `reasons`)."
    )
    reasons: str = Field(min_length=MIN_REASONS, max_length=4000)
    items: list[ItemDecision] = Field(
        default_factory=list,
        max_length=5000,
        description="A decision for each item with `decision_required` (for a release), and `withhold` "
        "for any other item the reviewer keeps back.",
    )

    @model_validator(mode="after")
    def _each_item_once(self) -> Self:
        ids = [d.item_id for d in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("an item is decided twice")
        return self


class Decision(BaseModel):
    outcome: ReviewOutcome
    reasons: str
    decided_by: str
    decided_by_agency: str
    decided_at: datetime


class SubjectAccessRequestRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": REQUEST_ID,
                    "subject_type": "child",
                    "subject_id": CHILD_ID,
                    "reference": "IG-SAR-2026-0113",
                    "received_on": "2026-12-01",
                    "requester_relationship": "parent_or_carer",
                    "identity_verified": True,
                    "status": "ready_for_review",
                    "due_on": "2027-01-01",
                    "extended_due_on": None,
                    "extension_reason": None,
                    "extended_at": None,
                    "respond_by": "2027-01-04",
                    "overdue": False,
                    "opened_by_agency": "sheffield-council",
                    "opened_at": "2026-12-01T11:20:00Z",
                    "package_assembled_at": "2026-12-02T09:05:00Z",
                    "decision": None,
                    "version": 2,
                }
            ]
        }
    )

    id: uuid.UUID
    subject_type: SubjectType
    subject_id: uuid.UUID
    reference: str | None
    received_on: date
    requester_relationship: RequesterRelationship
    identity_verified: bool
    status: RequestStatus
    due_on: date = Field(
        description="One calendar month after `received_on`: the corresponding date, or the last day of "
        "the month when there is none (31 January: 28 February, 29 in a leap year)."
    )
    extended_due_on: date | None = Field(
        description="After an extension: three calendar months after `received_on`, counted the same way."
    )
    extension_reason: str | None
    extended_at: datetime | None
    respond_by: date = Field(
        description="The due date in force (extended or not), or the next working day in England when it "
        "falls on a weekend or bank holiday (ICO guidance)."
    )
    overdue: bool = Field(description="No decision yet and `respond_by` has passed.")
    opened_by_agency: str
    opened_at: datetime
    package_assembled_at: datetime | None
    decision: Decision | None
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to extend or decide.",
    )


class SubjectAccessPackageRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": REQUEST_ID,
                    "subject_type": "child",
                    "subject_id": CHILD_ID,
                    "status": "ready_for_review",
                    "assembled_by": "ig.officer@sheffield.gov.example",
                    "assembled_by_agency": "sheffield-council",
                    "assembled_at": "2026-12-02T09:05:00Z",
                    "items": PACKAGE_ITEMS_EXAMPLE,
                    "decisions_required": [REFERRAL_ITEM_ID, INFORMATION_ITEM_ID],
                    "redactions": {"referrer": 1, "other_child": 1, "information_giver": 1},
                    "version": 2,
                }
            ]
        }
    )

    request_id: uuid.UUID
    subject_type: SubjectType
    subject_id: uuid.UUID
    status: RequestStatus
    assembled_by: str
    assembled_by_agency: str
    assembled_at: datetime
    items: list[PackageItem]
    decisions_required: list[str] = Field(description="The ids of the items the reviewer must decide on.")
    redactions: dict[str, int] = Field(description="How many fields were redacted, by reason.")
    version: int = Field(description="The request's version (its ETag), for If-Match on the decision.")
