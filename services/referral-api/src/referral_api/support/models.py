"""Support tables: a support offered to a child, its contacts, and each child's assessed
risk levels as the risk service announced them (a projection of ``risk.assessed``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class SupportKind(StrEnum):
    """What the support is: the interventions the partnership's own reports and national
    guidance name for children at risk of or harmed by exploitation (descriptions in
    :data:`KIND_MEANINGS`)."""

    one_to_one_exploitation_work = "one_to_one_exploitation_work"
    advocacy = "advocacy"
    sexual_health = "sexual_health"
    emotional_wellbeing = "emotional_wellbeing"
    therapeutic_post_abuse_support = "therapeutic_post_abuse_support"
    missing_advocate_follow_up = "missing_advocate_follow_up"
    education_or_training_support = "education_or_training_support"
    family_support = "family_support"
    group_work = "group_work"


KIND_MEANINGS: dict[SupportKind, str] = {
    SupportKind.one_to_one_exploitation_work: "Planned one-to-one sessions with a specialist "
    "exploitation worker (a trusted relationship, helping the child recognise exploitation and "
    "plan for safety).",
    SupportKind.advocacy: "Independent advocacy: someone on the child's side who helps them be heard "
    "in decisions about them (including independent child trafficking guardians).",
    SupportKind.sexual_health: "Sexual health and healthy relationships: clinic access, testing and "
    "contraception, consent and relationships work.",
    SupportKind.emotional_wellbeing: "Emotional wellbeing and mental health support (CAMHS, school "
    "counselling, mental health support teams).",
    SupportKind.therapeutic_post_abuse_support: "Therapeutic support after sexual abuse or "
    "exploitation: trauma-informed therapy, post-abuse counselling, children's independent sexual "
    "violence advisers.",
    SupportKind.missing_advocate_follow_up: "Follow-up by a missing-children advocate after a "
    "return-home interview, for children who go missing again.",
    SupportKind.education_or_training_support: "Support back into school, college, training or work "
    "(inclusion, alternative provision, mentoring).",
    SupportKind.family_support: "Work with the child's parents or carers and family (early help, "
    "parenting support, family group conferences).",
    SupportKind.group_work: "Structured group programmes (healthy relationships, online safety, "
    "county lines awareness).",
}


class ContactSetting(StrEnum):
    """Where a contact took place, in a child-safe sense: a kind of place, never an address."""

    school = "school"
    community_venue = "community_venue"
    home = "home"
    placement_out_of_area = "placement_out_of_area"
    secure_unit = "secure_unit"
    online = "online"
    other = "other"


class Engagement(StrEnum):
    """How the child engaged at a contact."""

    engaged = "engaged"
    partly_engaged = "partly_engaged"
    not_engaged = "not_engaged"
    did_not_attend = "did_not_attend"


class EndReason(StrEnum):
    goals_met = "goals_met"
    child_declined = "child_declined"
    disengaged = "disengaged"
    moved_away = "moved_away"
    transferred_to_another_service = "transferred_to_another_service"
    became_adult = "became_adult"
    other = "other"


class RiskLevel(StrEnum):
    """The risk service's levels (its ``risk.assessed`` events carry them)."""

    low = "low"
    medium = "medium"
    high = "high"


class Support(Base):
    """A support offered to a child: by whom, provided by which service or agency, when it
    was requested, started and ended, and the child's assessed risk at each end."""

    __tablename__ = "supports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    kind: Mapped[SupportKind] = mapped_column(enum_column(SupportKind, "support_kind"), index=True)
    # A service of the partnership agreement (its slug), and/or the agency that provides it.
    provider_service: Mapped[str | None] = mapped_column(String(63), index=True)
    provider_agency: Mapped[str | None] = mapped_column(String(63), index=True)
    offered_by: Mapped[str] = mapped_column(String(63))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    end_reason: Mapped[EndReason | None] = mapped_column(enum_column(EndReason, "support_end_reason"))
    # When the start and end were recorded (they may be recorded after the day they happened):
    # protected figures count only what was recorded before the month they are counted to.
    start_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    risk_level_at_start: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "risk_level_at_start")
    )
    risk_level_at_end: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "risk_level_at_end"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Its fixed random key for the cell key method (safeguarding_kit.disclosure).
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class SupportContact(Base):
    """One contact with the child under a support: the day, the kind of place (never an
    address), how the child engaged, and the agency that recorded it."""

    __tablename__ = "support_contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    support_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supports.id"), index=True)
    contacted_on: Mapped[date] = mapped_column(Date, index=True)
    setting: Mapped[ContactSetting] = mapped_column(enum_column(ContactSetting, "contact_setting"))
    engagement: Mapped[Engagement] = mapped_column(enum_column(Engagement, "contact_engagement"))
    recorded_by: Mapped[str] = mapped_column(String(63))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)


class AssessedRiskLevel(Base):
    """A child's assessed risk level as the risk service announced it (``risk.assessed``):
    the assessment, its final level (an override sends the event again with the new level)
    and when it was assessed. Read to fill in each support's level at start and at end,
    never asked of the risk service per read."""

    __tablename__ = "assessed_risk_levels"
    __table_args__ = (Index("ix_assessed_risk_levels_child_id_assessed_at", "child_id", "assessed_at"),)

    assessment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, "assessed_risk_level"))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime)
