"""HTTP handlers for persons and places of concern."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from referral_api.concerns import service
from referral_api.concerns.models import PersonOfConcern, PlaceOfConcern, PlaceType
from referral_api.concerns.schemas import (
    LinkCreate,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    PlaceCreate,
    PlaceRead,
)
from referral_api.deps import IntelligenceReader, IntelligenceWorker
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

persons_router = APIRouter(prefix="/api/v1/persons-of-concern", tags=["concerns"])
places_router = APIRouter(prefix="/api/v1/places-of-concern", tags=["concerns"])


def _person_body(session: Session, person: PersonOfConcern) -> PersonRead:
    body = PersonRead.model_validate(person)
    links = service.links_of(session, person_id=person.id)
    body.child_ids = [link.child_id for link in links if link.child_id]
    body.referral_ids = [link.referral_id for link in links if link.referral_id]
    return body


def _place_body(session: Session, place: PlaceOfConcern) -> PlaceRead:
    body = PlaceRead.model_validate(place)
    links = service.links_of(session, place_id=place.id)
    body.child_ids = [link.child_id for link in links if link.child_id]
    body.person_ids = [link.linked_person_id for link in links if link.linked_person_id]
    return body


@persons_router.post(
    "",
    operation_id="createPersonOfConcern",
    summary="Record a person of concern",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonRead,
    responses=problem_responses(401, 403, 422),
)
def create_person(
    body: PersonCreate, session: SessionDep, principal: IntelligenceWorker, once: IdempotentCreate
) -> VersionedJSONResponse:
    """Police and social care case workers only."""

    def create() -> VersionedJSONResponse:
        person = service.create_person(session, principal, body)
        return json_with_etag(
            _person_body(session, person),
            person.row_version,
            201,
            headers={"Location": f"/api/v1/persons-of-concern/{person.id}"},
        )

    return once.answer(session, principal, body, create)


@persons_router.get(
    "",
    operation_id="listPersonsOfConcern",
    summary="Persons of concern",
    response_model=Page[PersonRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_persons(
    session: SessionDep, principal: IntelligenceWorker, limit: LimitParam = 25, cursor: CursorParam = None
) -> Page[PersonRead]:
    """Newest first; empty for everyone outside police and social care."""
    rows, next_cursor = service.list_people(session, principal, limit=limit, cursor=cursor)
    return Page[PersonRead](items=[_person_body(session, p) for p in rows], next_cursor=next_cursor)


@persons_router.get(
    "/{person_id}",
    operation_id="getPersonOfConcern",
    summary="Read a person of concern",
    response_model=PersonRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_person(
    person_id: uuid.UUID, session: SessionDep, principal: IntelligenceReader
) -> VersionedJSONResponse:
    """404 for everyone outside police and social care."""
    person = service.get_person(session, principal, person_id)
    return json_with_etag(_person_body(session, person), person.row_version)


@persons_router.patch(
    "/{person_id}",
    operation_id="updatePersonOfConcern",
    summary="Update a person of concern",
    response_model=PersonRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_person(
    person_id: uuid.UUID,
    body: PersonUpdate,
    session: SessionDep,
    principal: IntelligenceReader,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Needs `If-Match`."""
    person = service.update_person(session, principal, person_id, body, if_match)
    return json_with_etag(_person_body(session, person), person.row_version)


@persons_router.post(
    "/{person_id}/links",
    operation_id="linkPersonOfConcern",
    summary="Link a person of concern to a child or referral",
    response_model=PersonRead,
    responses=problem_responses(401, 403, 404, 422),
)
def link_person(
    person_id: uuid.UUID,
    body: LinkCreate,
    session: SessionDep,
    principal: IntelligenceReader,
    once: IdempotentCreate,
) -> VersionedJSONResponse:
    """The child or referral must be one you can see."""

    def create() -> VersionedJSONResponse:
        service.link(session, principal, person_id=person_id, place_id=None, data=body)
        person = service.get_person(session, principal, person_id)
        return json_with_etag(_person_body(session, person), person.row_version)

    return once.answer(session, principal, body, create)


@places_router.post(
    "",
    operation_id="createPlaceOfConcern",
    summary="Record a place of concern",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaceRead,
    responses=problem_responses(401, 403, 422),
)
def create_place(
    body: PlaceCreate, session: SessionDep, principal: IntelligenceWorker, once: IdempotentCreate
) -> VersionedJSONResponse:
    """Hotels, takeaways, taxi firms, parks... never a child's home; street name and ward only."""

    def create() -> VersionedJSONResponse:
        place = service.create_place(session, principal, body)
        return json_with_etag(
            _place_body(session, place),
            place.row_version,
            201,
            headers={"Location": f"/api/v1/places-of-concern/{place.id}"},
        )

    return once.answer(session, principal, body, create)


@places_router.get(
    "",
    operation_id="listPlacesOfConcern",
    summary="Places of concern",
    response_model=Page[PlaceRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_places(
    session: SessionDep,
    principal: IntelligenceWorker,
    place_type: Annotated[PlaceType | None, Query(description="Only places of this type.")] = None,
    ward_code: Annotated[
        str | None,
        Query(pattern=r"^[EW]05\d{6}$", description="Only places in this electoral ward (its ONS code)."),
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[PlaceRead]:
    """Newest first, filtered by type and ward; empty outside police and social care."""
    rows, next_cursor = service.list_places(
        session, principal, place_type=place_type, ward_code=ward_code, limit=limit, cursor=cursor
    )
    return Page[PlaceRead](items=[_place_body(session, p) for p in rows], next_cursor=next_cursor)


@places_router.get(
    "/{place_id}",
    operation_id="getPlaceOfConcern",
    summary="Read a place of concern",
    response_model=PlaceRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_place(
    place_id: uuid.UUID, session: SessionDep, principal: IntelligenceReader
) -> VersionedJSONResponse:
    """404 for everyone outside police and social care."""
    place = service.get_place(session, principal, place_id)
    return json_with_etag(_place_body(session, place), place.row_version)


@places_router.post(
    "/{place_id}/links",
    operation_id="linkPlaceOfConcern",
    summary="Link a place to a person, child or referral",
    response_model=PlaceRead,
    responses=problem_responses(401, 403, 404, 422),
)
def link_place(
    place_id: uuid.UUID,
    body: LinkCreate,
    session: SessionDep,
    principal: IntelligenceReader,
    once: IdempotentCreate,
) -> VersionedJSONResponse:
    """A house or flat is linked to persons only, never to a child."""

    def create() -> VersionedJSONResponse:
        service.link(session, principal, person_id=None, place_id=place_id, data=body)
        place = service.get_place(session, principal, place_id)
        return json_with_etag(_place_body(session, place), place.row_version)

    return once.answer(session, principal, body, create)
