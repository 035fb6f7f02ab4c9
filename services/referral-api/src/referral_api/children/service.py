"""Business rules for children: registration with duplicate detection, reading,
updating under If-Match, and merging two records without losing history."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    false,
    func,
    insert,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from referral_api import audit_trail
from referral_api.access import (
    break_glass_notes,
    children_opened_by_break_glass,
    sees_all_cases,
    works_linked_cases,
)
from referral_api.children.events import ChildAgencyLinked, ChildMerged
from referral_api.children.models import Child, ChildAgencyLink, LinkReason
from referral_api.children.schemas import ChildDetails, ChildMerge, ChildUpdate
from referral_api.database import Base
from referral_api.referrals.models import Referral
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import restricted
from safeguarding_kit.events import Outbox
from safeguarding_kit.new_rows import built
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import NotFound, Problem

Answer = TypeVar("Answer")  # what a read answers about a child (the routes' ChildRead)


class ChildNotFound(NotFound):
    slug, title = "child-not-found", "Child not found"


class InvalidMerge(Problem):
    """These two child records cannot be merged: they are one record, or one was already merged."""

    status, slug, title = 409, "invalid-merge", "These records cannot be merged"


# Tables whose rows describe the child's own record or its history, not case work to re-point.
# A break-glass grant opened one record to one person; merging must not widen it.
_NOT_REPOINTED = {"children", "child_agency_links", "audit_log", "audit_chain_head", "break_glass_grants"}


@dataclass
class ChildRegistration:
    """The child a registration found or made, and whether it made it."""

    child: Child
    created: bool


def name_key(given_name: str, family_name: str) -> str:
    """Names folded for matching: case and inner spacing ignored."""
    return " ".join(family_name.casefold().split()) + "|" + " ".join(given_name.casefold().split())


def visible_children(principal: Principal, *, break_glass: bool = False) -> ColumnElement[bool]:
    """SQL condition: children the caller may work on; with ``break_glass``, for a read,
    also those the caller holds an open break-glass grant on."""
    if sees_all_cases(principal):
        return true()
    if works_linked_cases(principal):
        linked = select(ChildAgencyLink.child_id).where(ChildAgencyLink.agency == principal.agency)
        if break_glass:
            return or_(Child.id.in_(linked), Child.id.in_(children_opened_by_break_glass(principal)))
        return Child.id.in_(linked)
    return false()


def partner_may_see(session: Session, principal: Principal, subject: str) -> bool:
    """Whether a partner agency's webhook may hear of events about the child ``subject``."""
    return (
        session.scalar(select(Child.id).where(Child.id == uuid.UUID(subject), visible_children(principal)))
        is not None
    )


def link_agency(
    session: Session,
    child_id: uuid.UUID,
    agency: str,
    reason: LinkReason,
    outbox: Outbox,
    *,
    new_child: bool = False,
) -> None:
    """Link ``agency`` to the child (idempotent): its case workers may then read the case,
    here and (told by an event) in the risk service. A ``new_child`` (registered in this
    transaction) has no links yet: nothing to look up."""
    exists = None if new_child else session.get(ChildAgencyLink, (child_id, agency))
    if exists is None:
        session.add(ChildAgencyLink(child_id=child_id, agency=agency, reason=reason))
        session.flush()
        outbox.publish(session, ChildAgencyLinked(child_id=child_id, agency=agency, reason=reason))


def new_child_link(
    child_id: uuid.UUID, agency: str, reason: LinkReason
) -> tuple[ChildAgencyLink, ChildAgencyLinked]:
    """The first link of a child registered in this transaction (it has no links yet, so
    nothing to look up or to collide with), for the caller to write with the child, and the
    event announcing it, which the caller publishes once the link is written (the event's
    partner audience is read from the links)."""
    return (
        built(ChildAgencyLink, child_id=child_id, agency=agency, reason=reason),
        ChildAgencyLinked(child_id=child_id, agency=agency, reason=reason),
    )


def surviving_child(session: Session, child_id: uuid.UUID) -> Child | None:
    """The child's record, or the one it was merged into; None once it was disposed of (or
    never held here): where an event another service sent about a child belongs."""
    child = session.get(Child, child_id)
    return None if child is None else _surviving(session, child)


def _surviving(session: Session, child: Child) -> Child:
    """The record ``child`` was merged into, following merges; ``child`` if it never was."""
    seen = set()
    while child.merged_into_id is not None and child.id not in seen:
        seen.add(child.id)
        child = session.get_one(Child, child.merged_into_id)
    return child


def _same_person(child: Child, details: ChildDetails, key: str) -> bool:
    """True when the record has the date of birth and family name given."""
    return child.date_of_birth == details.date_of_birth and child.name_key.split("|")[0] == key.split("|")[0]


def register_child(session: Session, principal: Principal, details: ChildDetails) -> ChildRegistration:
    """:func:`child_for_details`, a new record added to the session: written by its next
    flush, with whatever else the caller adds, in one round of the unit of work. Does not
    commit, nor flush."""
    registration = child_for_details(session, principal, details)
    if registration.created:
        session.add(registration.child)
    return registration


def child_for_details(session: Session, principal: Principal, details: ChildDetails) -> ChildRegistration:
    """The child these details describe: the existing record when the NHS number
    matches (and, for agencies without ``all_cases``, the date of birth and family name
    match too, so an NHS number alone opens no record), else a new record, listed with
    the records it may duplicate (same names and date of birth, or the same NHS number)
    for the hub to review and merge.

    A known NHS number with another date of birth or family name is answered exactly
    as an unknown one (a new record of what the caller sent), never refused: the answer
    tells the caller nothing about which children the hub knows. A new record (its id set
    here) is not added to the session: the caller writes it."""
    key = name_key(details.given_name, details.family_name)
    if details.nhs_number:
        holders: dict[uuid.UUID, Child] = {}
        for record in session.scalars(
            select(Child).where(Child.nhs_number == details.nhs_number).order_by(Child.created_at, Child.id)
        ):
            surviving = _surviving(session, record)
            holders.setdefault(surviving.id, surviving)
        matching = [c for c in holders.values() if _same_person(c, details, key)]
        if matching:
            return ChildRegistration(child=matching[0], created=False)
        if holders and sees_all_cases(principal):  # the hub's own teams trust the number
            return ChildRegistration(child=next(iter(holders.values())), created=False)
    child = built(
        Child, id=uuid.uuid4(), **details.model_dump(), name_key=key, created_by_agency=principal.agency
    )
    return ChildRegistration(child=child, created=True)


def enrol_child(
    session: Session, principal: Principal, details: ChildDetails, outbox: Outbox
) -> ChildRegistration:
    """Register (or match) a child for a case worker, linking their agency when it is
    without ``all_cases`` so they can read the record they made; audited. Does not
    commit: the caller (the idempotent create) commits with its answer."""
    registration = register_child(session, principal, details)
    if not sees_all_cases(principal):
        link_agency(
            session,
            registration.child.id,
            principal.agency,
            LinkReason.registration,
            outbox,
            new_child=registration.created,
        )
    action = "create" if registration.created else "match"
    audit_trail.record(session, principal, action, "child", registration.child.id, registration.child.id)
    session.flush()
    return registration


def read_child(
    session: Session,
    principal: Principal,
    child_id: uuid.UUID,
    answer: Callable[[Child, ChildFacts], Answer],
) -> Answer:
    """The ``answer`` about the child and its facts for the caller (break-glass grants
    count), asked in one statement and made in the read's transaction; the read audited;
    commits. Possible duplicates are asked only for those who may see every case."""
    duplicates = sees_all_cases(principal)
    rows = session.execute(
        restricted(_RECORD_WITH_FACTS[duplicates], visible_children(principal, break_glass=True)),
        {"children": [child_id]},
    ).all()
    if not rows:
        _refuse_unseen(session, principal, child_id)
    child = rows[0][0]
    facts = _facts_from(rows)[child.id]
    note = break_glass_notes(session, principal, [child.id]).get(child.id)
    audit_trail.record(session, principal, "read", "child", child.id, child.id, detail=note)
    made = answer(child, facts)
    audit_trail.commit_read(session)
    return made


def list_children(
    session: Session,
    principal: Principal,
    answer: Callable[[list[Child]], list[Answer]],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Answer], str | None]:
    """The ``answer`` about the page of children the caller may see, newest first, made in
    the read's transaction; each listed child an audited read; commits."""
    rows, next_cursor = paginate(
        session,
        select(Child).where(visible_children(principal, break_glass=True)),
        created_at=Child.created_at,
        id_column=Child.id,
        limit=limit,
        cursor=cursor,
    )
    notes = break_glass_notes(session, principal, (child.id for child in rows))
    for child in rows:
        note = notes.get(child.id)
        audit_trail.record(session, principal, "list", "child", child.id, child.id, detail=note)
    made = answer(rows)
    audit_trail.commit_read(session)
    return made, next_cursor


def get_child(
    session: Session, principal: Principal, child_id: uuid.UUID, *, break_glass: bool = False
) -> Child:
    """The child, if the caller may work on it (or, with ``break_glass``, read it under a
    grant); otherwise :class:`ChildNotFound`."""
    child = session.scalar(
        select(Child).where(Child.id == child_id, visible_children(principal, break_glass=break_glass))
    )
    if child is None:
        _refuse_unseen(session, principal, child_id)
    return child


def _refuse_unseen(session: Session, principal: Principal, child_id: uuid.UUID) -> NoReturn:
    """:class:`ChildNotFound` for a child the caller may not see; if it exists, the refused
    read is audited (and committed) first."""
    if session.get(Child, child_id) is not None:
        audit_trail.record(session, principal, "read", "child", child_id, child_id, outcome="denied")
        session.commit()
    raise ChildNotFound(f"There is no child {child_id} that you can see.")


@dataclass(frozen=True)
class ChildFacts:
    """What a child's record tells beyond its own columns."""

    referral_count: int
    possible_duplicate_ids: list[uuid.UUID]


def _facts_of_children(*, duplicates: bool, record: bool) -> Select[*tuple[Any, ...]]:
    # Built once, the children's ids bound at execution: building it (an alias, its join and
    # cache key) cost more than running it. A row per child and possible duplicate (none
    # without ``duplicates``): the child's id (its record, with ``record``), its referral
    # count, the duplicate's id or null.
    children = bindparam("children", expanding=True, type_=Child.id.type)
    referral_count = (
        select(func.count()).where(Referral.child_id == Child.id).correlate(Child).scalar_subquery()
    )
    child = Child if record else Child.id
    if not duplicates:
        return select(child, referral_count, null()).where(Child.id.in_(children))
    other = aliased(Child)
    same_names = and_(other.name_key == Child.name_key, other.date_of_birth == Child.date_of_birth)
    same_number = and_(
        Child.nhs_number.is_not(None), Child.nhs_number != "", other.nhs_number == Child.nhs_number
    )
    return (
        select(child, referral_count, other.id)
        .outerjoin(
            other, and_(or_(same_names, same_number), other.id != Child.id, other.merged_into_id.is_(None))
        )
        .where(Child.id.in_(children))
        .order_by(other.created_at, other.id)
    )


# By whether possible duplicates are asked.
_FACTS_OF_CHILDREN = {asked: _facts_of_children(duplicates=asked, record=False) for asked in (False, True)}
_RECORD_WITH_FACTS = {asked: _facts_of_children(duplicates=asked, record=True) for asked in (False, True)}


def _facts_from(rows: Iterable[Row[*tuple[Any, ...]]]) -> dict[uuid.UUID, ChildFacts]:
    """Each child's facts from the rows of a ``_facts_of_children`` statement."""
    facts: dict[uuid.UUID, ChildFacts] = {}
    for child, referral_count, duplicate_id in rows:
        child_id = child.id if isinstance(child, Child) else child
        found = facts.setdefault(child_id, ChildFacts(int(referral_count), []))
        if duplicate_id is not None:
            found.possible_duplicate_ids.append(duplicate_id)
    return facts


def facts_about(
    session: Session, child_ids: list[uuid.UUID], *, duplicates: bool
) -> dict[uuid.UUID, ChildFacts]:
    """For each of ``child_ids`` (records written to the database) how many referrals there
    have been about them and, with ``duplicates``, the other unmerged records with the same
    names and date of birth, or the same NHS number (registered with other details): the
    hub's duplicate-review list, oldest first. One query for a page."""
    return _facts_from(session.execute(_FACTS_OF_CHILDREN[duplicates], {"children": child_ids}))


def update_child(
    session: Session, principal: Principal, child_id: uuid.UUID, changes: ChildUpdate, if_match: str | None
) -> Child:
    """Apply ``changes`` if ``If-Match`` names the current version (428/412 otherwise).
    Audited; commits."""
    child = get_child(session, principal, child_id)
    check_if_match(if_match, child.row_version)
    values = changes.model_dump(exclude_unset=True)
    for name, value in values.items():
        setattr(child, name, value)
    if "given_name" in values or "family_name" in values:
        child.name_key = name_key(child.given_name, child.family_name)
    session.flush()
    audit_trail.record(
        session,
        principal,
        "update",
        "child",
        child.id,
        child.id,
        detail=",".join(sorted(changes.model_fields_set)),
    )
    session.commit()
    return child


def merge_differences(surviving: Child, duplicate: Child) -> list[str]:
    """What tells two records apart that should be one child: date of birth, family name."""
    differences = []
    if surviving.date_of_birth != duplicate.date_of_birth:
        differences.append("date_of_birth")
    if surviving.family_name.casefold().split() != duplicate.family_name.casefold().split():
        differences.append("family_name")
    return differences


def merge_children(
    session: Session,
    principal: Principal,
    surviving_id: uuid.UUID,
    merge: ChildMerge,
    if_match: str | None,
    outbox: Outbox,
) -> Child:
    """Fold the duplicate into the surviving record: its referrals and case history move
    across, its identifiers fill gaps, and it is kept, marked merged. Audited with the
    merge's reason and what differed between the records; commits."""
    surviving = get_child(session, principal, surviving_id)
    duplicate = get_child(session, principal, merge.duplicate_id)
    check_if_match(if_match, surviving.row_version)
    if surviving.id == duplicate.id:
        raise InvalidMerge("A record cannot be merged into itself.")
    if duplicate.merged_into_id is not None or surviving.merged_into_id is not None:
        raise InvalidMerge("One of these records was already merged; merge into the surviving record.")
    differences = merge_differences(surviving, duplicate)

    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_REPOINTED or "child_id" not in table.c:
            continue
        session.execute(update(table).where(table.c.child_id == duplicate.id).values(child_id=surviving.id))
    surviving_links = set(
        session.scalars(select(ChildAgencyLink.agency).where(ChildAgencyLink.child_id == surviving.id))
    )
    for link in session.scalars(
        select(ChildAgencyLink).where(ChildAgencyLink.child_id == duplicate.id)
    ).all():
        if link.agency not in surviving_links:
            session.execute(
                insert(ChildAgencyLink).values(child_id=surviving.id, agency=link.agency, reason=link.reason)
            )

    moved_nhs = duplicate.nhs_number if surviving.nhs_number is None else None
    if moved_nhs is not None:
        duplicate.nhs_number = None
        session.flush()  # free the unique NHS number before the surviving record takes it
        surviving.nhs_number = moved_nhs
    for name in ("police_reference", "local_authority_reference", "school", "home_ward_code"):
        if getattr(surviving, name) is None:
            setattr(surviving, name, getattr(duplicate, name))
    surviving.looked_after = surviving.looked_after or duplicate.looked_after
    surviving.sen_or_disability = surviving.sen_or_disability or duplicate.sen_or_disability
    duplicate.merged_into_id = surviving.id
    session.flush()
    # Every merge gives its reason (ChildMerge); it stays with both records' audit, with what differed.
    why = (f" differs:{','.join(differences)}" if differences else "") + f" reason:{merge.reason}"
    audit_trail.record(
        session,
        principal,
        "merge",
        "child",
        surviving.id,
        surviving.id,
        detail=audit_trail.detail(f"from:{duplicate.id}{why}"),
    )
    audit_trail.record(
        session,
        principal,
        "merge",
        "child",
        duplicate.id,
        duplicate.id,
        detail=audit_trail.detail(f"into:{surviving.id}{why}"),
    )
    # Told under the duplicate's id, so it arrives after everything said of the duplicate.
    outbox.publish(session, ChildMerged(child_id=surviving.id, merged_child_id=duplicate.id))
    session.commit()
    return surviving
