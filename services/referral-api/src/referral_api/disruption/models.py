"""Disruption actions against persons and places of concern, and the children each protects.

An action names its kind by the slug of the partnership's vocabulary
(:mod:`referral_api.disruption.vocabulary`), so a partnership adds kinds without a
migration; whether it counts as a charge or a conviction is copied from the vocabulary
when it is recorded, so the figures of a past period do not change with the list.

A child is linked by id only (``disruption_action_children``, a foreign key to the
child's record): an action never holds a child's name. The link has an id of its own, so
that merging two records of a child (which re-points every ``child_id``) never collides."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class TargetType(StrEnum):
    """What an action is against: a person of concern or a place of concern."""

    person = "person"
    place = "place"


class DisruptionOutcome(StrEnum):
    """Where an action stands; which outcomes a kind takes is the vocabulary's."""

    issued = "issued"
    granted = "granted"
    refused = "refused"
    pending = "pending"
    withdrawn = "withdrawn"
    no_further_action = "no_further_action"
    convicted = "convicted"
    acquitted = "acquitted"
    other = "other"


class OffenceGroup(StrEnum):
    """The offence groups of police recorded crime (ONS, Crime in England and Wales)."""

    violence_against_the_person = "violence_against_the_person"
    sexual_offences = "sexual_offences"
    robbery = "robbery"
    theft_offences = "theft_offences"
    criminal_damage_and_arson = "criminal_damage_and_arson"
    drug_offences = "drug_offences"
    possession_of_weapons_offences = "possession_of_weapons_offences"
    public_order_offences = "public_order_offences"
    miscellaneous_crimes_against_society = "miscellaneous_crimes_against_society"


class DisruptionAction(Base):
    __tablename__ = "disruption_actions"
    __table_args__ = (
        CheckConstraint(
            "(person_of_concern_id IS NULL) <> (place_of_concern_id IS NULL)", name="exactly_one_target"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(63), index=True)
    target_type: Mapped[TargetType] = mapped_column(enum_column(TargetType, "disruption_target_type"))
    person_of_concern_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("persons_of_concern.id"), index=True
    )
    place_of_concern_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("places_of_concern.id"), index=True
    )
    action_date: Mapped[date] = mapped_column(Date, index=True)
    outcome: Mapped[DisruptionOutcome] = mapped_column(enum_column(DisruptionOutcome, "disruption_outcome"))
    outcome_date: Mapped[date | None] = mapped_column(Date)
    offence_group: Mapped[OffenceGroup | None] = mapped_column(enum_column(OffenceGroup, "offence_group"))
    reference: Mapped[str | None] = mapped_column(String(100))
    other_text: Mapped[str | None] = mapped_column(String(500))
    # Copied from the vocabulary when recorded: what the figures count it as.
    counts_as_charge: Mapped[bool] = mapped_column(default=False)
    counts_as_conviction: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[str] = mapped_column(String(255))
    recorded_by_agency: Mapped[str] = mapped_column(String(63))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    updated_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Its fixed random key for the cell key method (safeguarding_kit.disclosure).
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract

    @property
    def target_id(self) -> uuid.UUID:
        """The person's or the place's id."""
        target = self.person_of_concern_id or self.place_of_concern_id
        assert target is not None  # the table's check: exactly one
        return target


class DisruptionActionChild(Base):
    """A child the action protects: the child's id, never a name."""

    __tablename__ = "disruption_action_children"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("disruption_actions.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
