"""Request and response bodies for legal holds, the retention schedule and disposal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from referral_api.retention.models import HoldSubject
from safeguarding_kit.retention.schedule import RecordClass

HOLD_ID_EXAMPLE = "3c9e1f7a-2b4d-4e6f-8a1c-5d7e9f0b2a4c"
CHILD_ID_EXAMPLE = "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11"
HOLD_CREATE_EXAMPLE: dict[str, JsonValue] = {
    "subject_type": "child",
    "subject_id": CHILD_ID_EXAMPLE,
    "reason": "The Independent Inquiry has asked for every record of this child's case; "
    "nothing may be destroyed until it reports.",
    "reference": "IICSA-2027-SHF-014",
}
HOLD_READ_EXAMPLE: dict[str, JsonValue] = {
    "id": HOLD_ID_EXAMPLE,
    **HOLD_CREATE_EXAMPLE,
    "record_class": None,
    "placed_by": "ig.officer@sheffield.gov.example",
    "placed_by_agency": "sheffield-council",
    "placed_at": "2026-12-07T10:15:00Z",
    "active": True,
    "released_at": None,
    "released_by": None,
    "released_by_agency": None,
    "release_reason": None,
    "version": 1,
}


class LegalHoldCreate(BaseModel):
    """A hold on one child's record, one person or place of concern (`subject_id`), or on
    every record of a class of the retention schedule (`record_class`)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                HOLD_CREATE_EXAMPLE,
                {
                    "subject_type": "record_class",
                    "record_class": "exploitation_case_record",
                    "reason": "Operation Lantern: the police review of county lines cases in 2019-2024 "
                    "needs every exploitation case kept.",
                    "reference": "SYP Operation Lantern",
                },
            ]
        },
    )

    subject_type: HoldSubject = Field(description="What the hold keeps.")
    subject_id: uuid.UUID | None = Field(
        None,
        description="The child's, person's or place's id (from the record, the referral or the "
        "concerns register); leave out for a record class.",
    )
    record_class: RecordClass | None = Field(
        None,
        description="For `record_class` only: the class of the retention schedule "
        "(`GET /api/v1/retention/schedule`) every record of which is kept.",
    )
    reason: str = Field(
        min_length=10, max_length=2000, description="Why the records must be kept (the auditors' record)."
    )
    reference: str = Field(
        min_length=1,
        max_length=200,
        description="The inquiry, police operation or claim the hold is for, as it is known to them.",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        problems: list[tuple[str, str]] = []
        if self.subject_type is HoldSubject.record_class:
            if self.record_class is None:
                problems.append(("record_class", "a hold on a record class names the class"))
            if self.subject_id is not None:
                problems.append(("subject_id", "not for a hold on a record class"))
        else:
            if self.subject_id is None:
                problems.append(("subject_id", f"a hold on a {self.subject_type.value} names its id"))
            if self.record_class is not None:
                problems.append(("record_class", "only for a hold on a record class"))
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("legal_hold", message),
                        loc=(field,),
                        input=getattr(self, field),
                    )
                    for field, message in problems
                ],
            )
        return self


class LegalHoldRelease(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"reason": "The inquiry reported on 3 March 2028 and returned the records."}]
        },
    )

    reason: str = Field(min_length=10, max_length=2000, description="Why the records need no longer be kept.")


class LegalHoldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [HOLD_READ_EXAMPLE]})

    id: uuid.UUID
    subject_type: HoldSubject
    subject_id: uuid.UUID | None
    record_class: RecordClass | None
    reason: str
    reference: str
    placed_by: str = Field(description="Who placed the hold (their token's `sub`).")
    placed_by_agency: str
    placed_at: datetime
    active: bool = Field(description="True until the hold is released.")
    released_at: datetime | None
    released_by: str | None
    released_by_agency: str | None
    release_reason: str | None
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to release the hold.",
    )


class RetentionRuleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"years_after_last_activity": 75, "until_birthday": None, "kept": False}]
        }
    )

    years_after_last_activity: int | None = Field(
        description="Kept this many years after the last thing recorded about it."
    )
    until_birthday: int | None = Field(description="Kept until the child's birthday of this age.")
    kept: bool = Field(description="Never disposed of by the platform.")


CLASS_RULE_EXAMPLE: dict[str, JsonValue] = {
    "record_class": "looked_after_case_record",
    "description": "The case record of a child who is or was looked after by the local authority.",
    "keep": {"years_after_last_activity": None, "until_birthday": 75, "kept": False},
    "rule": "until the 75th birthday",
    "authority": "The Care Planning, Placement and Case Review (England) Regulations 2010, regulation 50.",
    "source": "https://www.legislation.gov.uk/uksi/2010/959/regulation/50",
}


class RecordClassRuleRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [CLASS_RULE_EXAMPLE]})

    record_class: RecordClass
    description: str
    keep: RetentionRuleRead
    rule: str = Field(description="The rule in words, as disposal records keep it.")
    authority: str = Field(description="The statute, code or decision the rule comes from.")
    source: HttpUrl | None


class RetentionScheduleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": "2026-12-06", "record_classes": [CLASS_RULE_EXAMPLE]}]}
    )

    version: str = Field(description="The schedule's own version, kept with every disposal record.")
    record_classes: list[RecordClassRuleRead]


class ClassDueRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_class": "no_further_action_referral",
                    "rule": "until the 25th birthday",
                    "due_on": "2023-02-11",
                }
            ]
        }
    )

    record_class: RecordClass
    rule: str
    due_on: date | None = Field(description="The first day this class lets the record go; null: kept.")


DUE_RECORD_EXAMPLE: dict[str, JsonValue] = {
    "subject_type": "child",
    "subject_id": CHILD_ID_EXAMPLE,
    "record_classes": [
        {
            "record_class": "no_further_action_referral",
            "rule": "until the 25th birthday",
            "due_on": "2023-02-11",
        },
        {"record_class": "missing_episode", "rule": "until the 25th birthday", "due_on": "2023-02-11"},
    ],
    "last_activity_on": "2016-09-30",
    "due_on": "2023-02-11",
}


class DueRecordRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DUE_RECORD_EXAMPLE]})

    subject_type: HoldSubject = Field(description="`child`, `person_of_concern` or `place_of_concern`.")
    subject_id: uuid.UUID
    record_classes: list[ClassDueRead]
    last_activity_on: date = Field(description="The day of the last thing recorded about it.")
    due_on: date = Field(description="The first day every one of its classes lets it go.")


class DisposalRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"dry_run": True}]})

    dry_run: bool = Field(
        description="True: list what would go now, and dispose of nothing. False: dispose of it."
    )


class DisposalRunRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dry_run": True,
                    "as_of": "2026-12-07T10:30:00Z",
                    "schedule_version": "2026-12-06",
                    "records": [DUE_RECORD_EXAMPLE],
                    "held": [],
                }
            ]
        }
    )

    dry_run: bool
    as_of: datetime = Field(description="The moment the run judged what was due.")
    schedule_version: str
    records: list[DueRecordRead] = Field(
        description="Dry run: what would be disposed of now. Otherwise: what was disposed of."
    )
    held: list[DueRecordRead] = Field(
        description="What is past retention but kept by an active legal hold (nothing of it is disposed of)."
    )


class DisposalRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
                    "record_class": "no_further_action_referral",
                    "rule": "until the 25th birthday",
                    "subject_type": "child",
                    "subject_id": CHILD_ID_EXAMPLE,
                    "cause": "retention",
                    "schedule_version": "2026-12-06",
                    "disposed_at": "2026-12-07T02:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    record_class: str = Field(description="The record class of the retention schedule.")
    rule: str = Field(description="The rule it went under, in words.")
    subject_type: str
    subject_id: uuid.UUID = Field(description="The opaque id of what went; it resolves to no one now.")
    cause: str = Field(description="`retention`: this service's disposal under the schedule.")
    schedule_version: str
    disposed_at: datetime
