"""Assessment tables: the assessment, its answers, and each child's current risk."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from risk_api.database import Base
from risk_api.vocabularies import Answer, RiskLevel, Trend
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risk_models.id"), index=True)
    assessed_by: Mapped[str] = mapped_column(String(255))
    assessed_agency: Mapped[str] = mapped_column(String(63))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    age_at_assessment: Mapped[int | None]
    score: Mapped[int]
    age_points: Mapped[int] = mapped_column(default=0)
    computed_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "computed_level"))
    final_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "final_level"), index=True)
    hard_triggers: Mapped[list[str]] = mapped_column(JSON, default=list)
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(255))
    override_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    row_version: Mapped[int] = mapped_column(default=1)

    answers: Mapped[list[AssessmentAnswer]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AssessmentAnswer.indicator_code"
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class AssessmentAnswer(Base):
    __tablename__ = "assessment_answers"

    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    answer: Mapped[Answer] = mapped_column(enum_column(Answer, "answer"))
    evidence: Mapped[str | None] = mapped_column(Text)
    source_agency: Mapped[str | None] = mapped_column(String(63))
    contribution: Mapped[int] = mapped_column(default=0)


class ChildRisk(Base):
    """A child's current risk: the level of their latest assessment, and what is due next."""

    __tablename__ = "child_risk"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    current_level: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "current_level"), index=True
    )
    previous_level: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "previous_level"))
    trend: Mapped[Trend | None] = mapped_column(enum_column(Trend, "trend"))
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("assessments.id"))
    assessments_count: Mapped[int] = mapped_column(default=0)
    last_assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    level_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    next_review_due: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    screening_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    initial_assessment_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
    # The child's fixed random key for the cell key method: every risk figure counts
    # children, and a cell's noise comes from the sum of its children's keys. Never shown.
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class ChildAgencyLink(Base):
    """An agency linked to a child by the referral service (a referral it sent or a case
    allocated to it): its case workers may read the child's risk."""

    __tablename__ = "child_agency_links"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agency: Mapped[str] = mapped_column(String(63), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
