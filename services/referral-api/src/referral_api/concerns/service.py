"""Business rules for persons and places of concern."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import reads_intelligence
from referral_api.children import service as children_service
from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern, PlaceType
from referral_api.concerns.schemas import LinkCreate, PersonCreate, PersonUpdate, PlaceCreate
from referral_api.referrals import service as referrals_service
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import FieldError, Forbidden, NotFound, Problem


class ConcernNotFound(NotFound):
    slug, title = "concern-not-found", "Person or place of concern not found"


class InvalidLink(Problem):
    """A link the register does not keep: a person of concern links to children and referrals, a
    place to persons (from the place)."""

    status, slug, title = 422, "invalid-concern-link", "That cannot be linked"


def require_writer(principal: Principal) -> None:
    if not reads_intelligence(principal):
        raise Forbidden(
            "Persons and places of concern are for case workers of agencies granted intelligence."
        )


def _get(session: Session, principal: Principal, model: type[Any], record_id: uuid.UUID) -> Any:
    record = session.get(model, record_id) if reads_intelligence(principal) else None
    if record is None:
        raise ConcernNotFound(f"There is no record {record_id} that you can see.")
    return record


def links_of(
    session: Session, *, person_id: uuid.UUID | None = None, place_id: uuid.UUID | None = None
) -> list[ConcernLink]:
    stmt = select(ConcernLink)
    stmt = (
        stmt.where(ConcernLink.person_id == person_id)
        if person_id
        else stmt.where(ConcernLink.place_id == place_id)
    )
    return list(session.scalars(stmt))


def create_person(session: Session, principal: Principal, data: PersonCreate) -> PersonOfConcern:
    """A new person of concern recorded by the caller's agency; flushed, for the caller
    (the idempotent create) to commit with its answer."""
    require_writer(principal)
    person = PersonOfConcern(**data.model_dump(), recorded_by_agency=principal.agency)
    session.add(person)
    session.flush()
    return person


def create_place(session: Session, principal: Principal, data: PlaceCreate) -> PlaceOfConcern:
    """A new place of concern recorded by the caller's agency; flushed, for the caller
    (the idempotent create) to commit with its answer."""
    require_writer(principal)
    place = PlaceOfConcern(**data.model_dump(), recorded_by_agency=principal.agency)
    session.add(place)
    session.flush()
    return place


def get_person(session: Session, principal: Principal, person_id: uuid.UUID) -> PersonOfConcern:
    person: PersonOfConcern = _get(session, principal, PersonOfConcern, person_id)
    return person


def get_place(session: Session, principal: Principal, place_id: uuid.UUID) -> PlaceOfConcern:
    place: PlaceOfConcern = _get(session, principal, PlaceOfConcern, place_id)
    return place


def update_person(
    session: Session, principal: Principal, person_id: uuid.UUID, data: PersonUpdate, if_match: str | None
) -> PersonOfConcern:
    require_writer(principal)
    person = get_person(session, principal, person_id)
    check_if_match(if_match, person.row_version)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(person, name, value)
    session.commit()
    return person


def link(
    session: Session,
    principal: Principal,
    *,
    person_id: uuid.UUID | None,
    place_id: uuid.UUID | None,
    data: LinkCreate,
) -> ConcernLink:
    """Link a person or place to a child or referral you can see (or a place to a person);
    audited. Does not commit: the caller (the idempotent create) commits with its answer."""
    require_writer(principal)
    if person_id is not None:
        get_person(session, principal, person_id)
        if data.person_id is not None:
            raise InvalidLink(
                "Link a person to a child or referral; link places to persons from the place.",
                errors=[FieldError(detail="not for a person", pointer="#/person_id")],
            )
    if place_id is not None:
        place = get_place(session, principal, place_id)
        if data.child_id is not None and place.place_type in (PlaceType.house, PlaceType.flat):
            # A house or flat linked to a child would soon be read as where the child lives.
            raise InvalidLink(
                "A house or flat of concern is linked to the persons seen there, not to a child.",
                errors=[FieldError(detail="not for a house or flat", pointer="#/child_id")],
            )
    child_id = data.child_id
    if data.child_id is not None:
        children_service.get_child(session, principal, data.child_id)
    if data.referral_id is not None:
        child_id = referrals_service.get_referral(session, principal, data.referral_id).child_id
    if data.person_id is not None:
        get_person(session, principal, data.person_id)
    record = ConcernLink(
        person_id=person_id,
        place_id=place_id,
        child_id=data.child_id,
        referral_id=data.referral_id,
        linked_person_id=data.person_id,
        linked_by=principal.sub,
    )
    session.add(record)
    session.flush()
    if child_id is not None:
        audit_trail.record(
            session,
            principal,
            "link",
            "person_of_concern" if person_id else "place_of_concern",
            person_id or place_id or record.id,
            child_id,
        )
    return record


def list_people(
    session: Session, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[PersonOfConcern], str | None]:
    if not reads_intelligence(principal):
        return [], None
    return paginate(
        session,
        select(PersonOfConcern),
        created_at=PersonOfConcern.created_at,
        id_column=PersonOfConcern.id,
        limit=limit,
        cursor=cursor,
    )


def list_places(
    session: Session,
    principal: Principal,
    *,
    place_type: PlaceType | None,
    ward_code: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[PlaceOfConcern], str | None]:
    if not reads_intelligence(principal):
        return [], None
    stmt = select(PlaceOfConcern)
    if place_type is not None:
        stmt = stmt.where(PlaceOfConcern.place_type == place_type)
    if ward_code is not None:
        stmt = stmt.where(PlaceOfConcern.ward_code == ward_code)
    return paginate(
        session,
        stmt,
        created_at=PlaceOfConcern.created_at,
        id_column=PlaceOfConcern.id,
        limit=limit,
        cursor=cursor,
    )
