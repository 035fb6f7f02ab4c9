"""The de-identified facts kept of a disposed child's assessments, for the risk figures."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import SmallInteger, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from risk_api.database import Base
from risk_api.vocabularies import RiskLevel
from safeguarding_kit.db import UtcDateTime, enum_column


class DisposedAssessmentFact(Base):
    """One assessment of a child whose record was disposed of, as the risk figures count it:
    when it was made, its computed and final level, when a manager overrode it, and the
    child's cell key. Nothing else (no evidence, answers, assessor or reason) and never the
    child's id: the facts of one child share a random ``subject_key`` drawn at disposal,
    which nothing else in the platform holds, so past figures count the child as before and
    no one can tell who they were."""

    __tablename__ = "disposed_assessment_facts"

    # Random too, but drawn in the order of the child's assessments (made, then id), so the
    # figures break a tie between two assessments made at the same instant as they did.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    subject_key: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    stats_key: Mapped[int] = mapped_column(SmallInteger)
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    computed_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "computed_level"))
    final_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "final_level"))
    override_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
