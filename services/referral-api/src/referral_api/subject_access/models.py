"""Subject access tables: the request with its clock and the reviewer's decision, and the
package assembled for review (one per request, replaced when assembled again).

The subject is a child or a person of concern, by id without a foreign key: a request
outlives what it asked about (a record disposed of under the retention schedule, say),
and its history is the partnership's evidence that it answered. A merge does not move a
request either: it was about the record as it stood; the package is assembled from the
record the subject was merged into."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now


class SubjectType(StrEnum):
    child = "child"
    person_of_concern = "person_of_concern"


class RequesterRelationship(StrEnum):
    """Who asked, in relation to the subject."""

    data_subject = "data_subject"
    parent_or_carer = "parent_or_carer"
    legal_representative = "legal_representative"
    advocate = "advocate"
    other_authorised_person = "other_authorised_person"


class RequestStatus(StrEnum):
    open = "open"
    ready_for_review = "ready_for_review"
    released = "released"
    withheld = "withheld"


class ReviewOutcome(StrEnum):
    release = "release"
    withhold = "withhold"


class SubjectAccessRequest(Base):
    __tablename__ = "subject_access_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_type: Mapped[SubjectType] = mapped_column(enum_column(SubjectType, "subject_type"))
    subject_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date)
    requester_relationship: Mapped[RequesterRelationship] = mapped_column(
        enum_column(RequesterRelationship, "requester_relationship")
    )
    identity_verified: Mapped[bool]
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "subject_access_status"), default=RequestStatus.open, index=True
    )
    due_on: Mapped[date] = mapped_column(Date, index=True)
    extended_due_on: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(255))
    opened_by_agency: Mapped[str] = mapped_column(String(63))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    package_assembled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[ReviewOutcome | None] = mapped_column(enum_column(ReviewOutcome, "review_outcome"))
    outcome_reasons: Mapped[str | None] = mapped_column(Text)
    # The reviewer's choice for each item they decided on: item id -> "disclose" or "withhold".
    item_decisions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_by_agency: Mapped[str | None] = mapped_column(String(63))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class SubjectAccessPackage(Base):
    """What was assembled for the reviewer: every item with its source, redactions and flags
    (when: the request's ``package_assembled_at``)."""

    __tablename__ = "subject_access_packages"

    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subject_access_requests.id"), primary_key=True)
    assembled_by: Mapped[str] = mapped_column(String(255))
    assembled_by_agency: Mapped[str] = mapped_column(String(63))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
