"""Statistical facts: what the referral, support and disruption figures read about records
that were disposed of, kept apart from any identifiable record so that the figures of past
periods do not change.

A fact holds no name, date of birth, NHS number or other identifier, no free text, no
agency person and no id of a child, referral, missing episode, support, place, person or
disruption action: each fact has a new random id of its own and leads back to no one.
Written by :mod:`referral_api.stats.statistical_facts`, counted by
:mod:`referral_api.stats.sources`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.concerns.models import PlaceType
from referral_api.database import Base
from referral_api.referrals.models import ConcernType
from referral_api.stats.dimensions import ReferralOutcome
from referral_api.support.models import ContactSetting, EndReason, Engagement, RiskLevel, SupportKind
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.db import UtcDateTime, enum_column


class ReferralFact(Base):
    """A disposed referral as the referral figures and timeliness count it, with its
    child's gender, ethnicity and looked-after status as they were at disposal."""

    __tablename__ = "referral_facts"
    # The live referrals' covering index, for the same groupings over the same windows.
    __table_args__ = (
        Index(
            "ix_referral_facts_figures",
            "received_at",
            "received_quarter",
            "received_financial_quarter",
            "age_band_at_referral",
            "agency_type",
            "stats_key",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_quarter: Mapped[str] = mapped_column(String(7))
    received_month: Mapped[str] = mapped_column(String(7))
    received_financial_quarter: Mapped[str] = mapped_column(String(10))
    age_band_at_referral: Mapped[str] = mapped_column(String(5))
    agency_type: Mapped[AgencyType] = mapped_column(enum_column(AgencyType, "agency_type"))
    outcome: Mapped[ReferralOutcome] = mapped_column(enum_column(ReferralOutcome, "referral_outcome"))
    # The agreement's service slug, or "other" for a service recorded as free text before the
    # agreement kept a closed list (the figure shows those as "other" too); None: not signposted.
    signposted_to: Mapped[str | None] = mapped_column(String(63))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "gender"))
    ethnicity: Mapped[Ethnicity] = mapped_column(enum_column(Ethnicity, "ethnicity"))
    looked_after: Mapped[bool]
    decision_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    migrated: Mapped[bool]
    # The referral's own key for the cell key method: protected counts stay as they were.
    stats_key: Mapped[int] = mapped_column(SmallInteger)


class ReferralFactConcern(Base):
    """One concern type of a kept referral (a row each, as the live referrals have)."""

    __tablename__ = "referral_fact_concerns"

    referral_fact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral_facts.id"), primary_key=True)
    concern_type: Mapped[ConcernType] = mapped_column(
        enum_column(ConcernType, "concern_type"), primary_key=True
    )


class MissingEpisodeFact(Base):
    """A disposed missing episode as the return-home interview figure counts it."""

    __tablename__ = "missing_episode_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    found_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    rhi_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_offered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    rhi_declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stats_key: Mapped[int] = mapped_column(SmallInteger)


class PlaceFact(Base):
    """A disposed place of concern as the places-by-ward figure counts it: its ward and
    type, never its name, street or description."""

    __tablename__ = "place_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    place_type: Mapped[PlaceType] = mapped_column(enum_column(PlaceType, "place_type"))
    ward_code: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stats_key: Mapped[int] = mapped_column(SmallInteger)


class SupportFact(Base):
    """A disposed child's support as the support figures count it: its kind, its provider
    (the agreement's service and the providing agency, slugs of organisations, never a
    person), when it was requested, started and ended (and when each was recorded), why it
    ended and the child's risk level at each end. Never the child, nor who offered it."""

    __tablename__ = "support_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[SupportKind] = mapped_column(enum_column(SupportKind, "support_kind"))
    provider_service: Mapped[str | None] = mapped_column(String(63))
    provider_agency: Mapped[str | None] = mapped_column(String(63))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    end_reason: Mapped[EndReason | None] = mapped_column(enum_column(EndReason, "support_end_reason"))
    start_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    risk_level_at_start: Mapped[RiskLevel | None] = mapped_column(
        enum_column(RiskLevel, "risk_level_at_start")
    )
    risk_level_at_end: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel, "risk_level_at_end"))
    # The support's own key for the cell key method: protected counts stay as they were.
    stats_key: Mapped[int] = mapped_column(SmallInteger)


class SupportContactFact(Base):
    """A contact of a kept support as the contact figures count it: the day, the kind of
    place and the child's engagement, when it was recorded (never by whom)."""

    __tablename__ = "support_contact_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    support_fact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_facts.id"), index=True)
    contacted_on: Mapped[date] = mapped_column(Date, index=True)
    setting: Mapped[ContactSetting] = mapped_column(enum_column(ContactSetting, "contact_setting"))
    engagement: Mapped[Engagement] = mapped_column(enum_column(Engagement, "contact_engagement"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stats_key: Mapped[int] = mapped_column(SmallInteger)


class DisruptionActionFact(Base):
    """A disposed person's or place's disruption action as the disruption figures count it:
    its kind, the day it was taken, whether it counted as a charge or a conviction, and when
    it was recorded. Never its target, its children, reference, text or recorder."""

    __tablename__ = "disruption_action_facts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # A slug of the partnership's vocabulary, as on the action.
    kind: Mapped[str] = mapped_column(String(63))
    action_date: Mapped[date] = mapped_column(Date, index=True)
    counts_as_charge: Mapped[bool]
    counts_as_conviction: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stats_key: Mapped[int] = mapped_column(SmallInteger)
