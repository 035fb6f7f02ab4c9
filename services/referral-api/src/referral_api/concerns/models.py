"""Person and place of concern tables, and their links to children and referrals."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.database import Base
from referral_api.vocabularies import Ethnicity, Gender
from safeguarding_kit.db import UtcDateTime, enum_column, utc_now
from safeguarding_kit.disclosure import new_record_key


class PlaceType(StrEnum):
    hotel = "hotel"
    bed_and_breakfast = "bed_and_breakfast"
    takeaway = "takeaway"
    shop = "shop"
    taxi_firm = "taxi_firm"
    park = "park"
    house = "house"
    flat = "flat"
    car_park = "car_park"
    transport_hub = "transport_hub"
    school_vicinity = "school_vicinity"
    online_platform = "online_platform"
    other = "other"


class PersonOfConcern(Base):
    __tablename__ = "persons_of_concern"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str | None] = mapped_column(String(200))
    alias: Mapped[str | None] = mapped_column(String(200))
    approximate_age: Mapped[int | None]
    gender: Mapped[Gender] = mapped_column(enum_column(Gender, "gender"))
    ethnicity: Mapped[Ethnicity] = mapped_column(enum_column(Ethnicity, "ethnicity"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    recorded_by_agency: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Last changed (null until then): what the retention schedule's six years count from.
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, onupdate=utc_now)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class PlaceOfConcern(Base):
    """A place where exploitation happens. Never a child's home: a place record holds
    no house number and is never derived from a child's address."""

    __tablename__ = "places_of_concern"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    place_type: Mapped[PlaceType] = mapped_column(enum_column(PlaceType, "place_type"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    ward_code: Mapped[str | None] = mapped_column(String(9), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    recorded_by_agency: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    # Its fixed random key for the cell key method (safeguarding_kit.disclosure).
    stats_key: Mapped[int] = mapped_column(SmallInteger, default=new_record_key)
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's declarative contract


class ConcernLink(Base):
    """A person or place of concern linked to a child, a referral or (for a place) a person."""

    __tablename__ = "concern_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons_of_concern.id"), index=True)
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("places_of_concern.id"), index=True)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"), index=True)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"))
    linked_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons_of_concern.id"))
    linked_by: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
