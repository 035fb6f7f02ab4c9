"""Business rules for children: registration with duplicate detection, reading,
updating under If-Match, and merging two records without losing history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import sees_all_cases, works_linked_cases
from referral_api.children.models import Child, ChildAgencyLink, LinkReason
from referral_api.children.schemas import ChildDetails, ChildMerge, ChildUpdate
from referral_api.database import Base
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, NotFound, Problem


class ChildNotFound(NotFound):
    slug, title = "child-not-found", "Child not found"


class IdentifierConflict(Conflict):
    slug, title = "identifier-conflict", "Identifier belongs to another record"


class InvalidMerge(Problem):
    status, slug, title = 409, "invalid-merge", "These records cannot be merged"


# Tables whose rows describe the child's own record or its history, not case work to re-point.
_NOT_REPOINTED = {"children", "child_agency_links", "audit_log", "audit_chain_head"}


@dataclass
class ChildRegistration:
    child: Child
    created: bool
    possible_duplicate_ids: list[uuid.UUID] = field(default_factory=list)


def name_key(given_name: str, family_name: str) -> str:
    """Names folded for matching: case and inner spacing ignored."""
    return " ".join(family_name.casefold().split()) + "|" + " ".join(given_name.casefold().split())


def visible_children(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: children the caller may read."""
    if sees_all_cases(principal):
        return true()
    if works_linked_cases(principal):
        linked = select(ChildAgencyLink.child_id).where(ChildAgencyLink.agency == principal.agency)
        return Child.id.in_(linked)
    return false()


def partner_may_see(session: Session, principal: Principal, subject: str) -> bool:
    """Whether a partner agency's webhook may hear of events about the child ``subject``."""
    return (
        session.scalar(select(Child.id).where(Child.id == uuid.UUID(subject), visible_children(principal)))
        is not None
    )


def link_agency(
    session: Session, child_id: uuid.UUID, agency: str, reason: LinkReason, outbox: Outbox
) -> None:
    """Link ``agency`` to the child (idempotent): its case workers may then read the case,
    here and (told by an event) in the risk service."""
    exists = session.get(ChildAgencyLink, (child_id, agency))
    if exists is None:
        session.add(ChildAgencyLink(child_id=child_id, agency=agency, reason=reason))
        session.flush()
        outbox.emit(
            session,
            "child.agency_linked",
            str(child_id),
            {"child_id": str(child_id), "agency": agency, "reason": reason.value},
        )


def _surviving(session: Session, child: Child) -> Child:
    seen = set()
    while child.merged_into_id is not None and child.id not in seen:
        seen.add(child.id)
        child = session.get_one(Child, child.merged_into_id)
    return child


def register_child(session: Session, principal: Principal, details: ChildDetails) -> ChildRegistration:
    """The child these details describe: the existing record when the NHS number
    matches (and, for agencies outside the statutory partners, the date of birth and
    family name match too, so an NHS number alone opens no record), else a new record,
    flagged with any records of the same names and date of birth. Does not commit."""
    key = name_key(details.given_name, details.family_name)
    if details.nhs_number:
        known = session.scalar(select(Child).where(Child.nhs_number == details.nhs_number))
        if known is not None:
            known = _surviving(session, known)
            same_person = (
                known.date_of_birth == details.date_of_birth
                and known.name_key.split("|")[0] == key.split("|")[0]
            )
            if not (sees_all_cases(principal) or same_person):
                raise IdentifierConflict(
                    "A child with this NHS number is already known to the hub with other details. "
                    "Check the NHS number and date of birth, or contact the hub."
                )
            return ChildRegistration(child=known, created=False)
    candidates = list(
        session.scalars(
            select(Child.id).where(
                Child.name_key == key,
                Child.date_of_birth == details.date_of_birth,
                Child.merged_into_id.is_(None),
            )
        )
    )
    child = Child(**details.model_dump(), name_key=key, created_by_agency=principal.agency)
    session.add(child)
    try:
        session.flush()
    except IntegrityError as exc:  # the same NHS number registered concurrently
        session.rollback()
        raise IdentifierConflict(
            "A child with this NHS number was registered at the same moment; retry."
        ) from exc
    return ChildRegistration(child=child, created=True, possible_duplicate_ids=candidates)


def enrol_child(
    session: Session, principal: Principal, details: ChildDetails, outbox: Outbox
) -> ChildRegistration:
    """Register (or match) a child for a case worker, linking their agency when it is
    not a statutory partner so they can read the record they made; audited; commits."""
    registration = register_child(session, principal, details)
    if not sees_all_cases(principal):
        link_agency(session, registration.child.id, principal.agency, LinkReason.registration, outbox)
    action = "create" if registration.created else "match"
    audit_trail.record(session, principal, action, "child", registration.child.id, registration.child.id)
    session.commit()
    return registration


def read_child(session: Session, principal: Principal, child_id: uuid.UUID) -> Child:
    """The child for the caller, the read audited; commits."""
    child = get_child(session, principal, child_id)
    audit_trail.record(session, principal, "read", "child", child.id, child.id)
    session.commit()
    return child


def list_children(
    session: Session, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[Child], str | None]:
    """Children the caller may see, newest first; each listed child an audited read."""
    rows, next_cursor = paginate(
        session,
        select(Child).where(visible_children(principal)),
        created_at=Child.created_at,
        id_column=Child.id,
        limit=limit,
        cursor=cursor,
    )
    for child in rows:
        audit_trail.record(session, principal, "list", "child", child.id, child.id)
    session.commit()
    return rows, next_cursor


def get_child(session: Session, principal: Principal, child_id: uuid.UUID) -> Child:
    """The child, if the caller may read it; otherwise :class:`ChildNotFound`."""
    child = session.scalar(select(Child).where(Child.id == child_id, visible_children(principal)))
    if child is None:
        if session.get(Child, child_id) is not None:  # exists, but not for this caller: audit the refusal
            audit_trail.record(session, principal, "read", "child", child_id, child_id, outcome="denied")
            session.commit()
        raise ChildNotFound(f"There is no child {child_id} that you can see.")
    return child


def possible_duplicates(session: Session, child: Child) -> list[uuid.UUID]:
    """Other unmerged records with the same names and date of birth."""
    return list(
        session.scalars(
            select(Child.id).where(
                Child.name_key == child.name_key,
                Child.date_of_birth == child.date_of_birth,
                Child.id != child.id,
                Child.merged_into_id.is_(None),
            )
        )
    )


def update_child(
    session: Session, principal: Principal, child_id: uuid.UUID, changes: ChildUpdate, if_match: str | None
) -> Child:
    """Apply ``changes`` if ``If-Match`` names the current version (428/412 otherwise).
    Audited; commits."""
    child = get_child(session, principal, child_id)
    check_if_match(if_match, child.version)
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


def merge_children(
    session: Session,
    principal: Principal,
    surviving_id: uuid.UUID,
    merge: ChildMerge,
    if_match: str | None,
    outbox: Outbox,
) -> Child:
    """Fold the duplicate into the surviving record: its referrals and case history move
    across, its identifiers fill gaps, and it is kept, marked merged. Audited; commits."""
    surviving = get_child(session, principal, surviving_id)
    duplicate = get_child(session, principal, merge.duplicate_id)
    check_if_match(if_match, surviving.version)
    if surviving.id == duplicate.id:
        raise InvalidMerge("A record cannot be merged into itself.")
    if duplicate.merged_into_id is not None or surviving.merged_into_id is not None:
        raise InvalidMerge("One of these records was already merged; merge into the surviving record.")

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
    audit_trail.record(
        session, principal, "merge", "child", surviving.id, surviving.id, detail=f"from:{duplicate.id}"
    )
    audit_trail.record(
        session, principal, "merge", "child", duplicate.id, duplicate.id, detail=f"into:{surviving.id}"
    )
    # Told under the duplicate's id, so it arrives after everything said of the duplicate.
    outbox.emit(
        session,
        "child.merged",
        str(duplicate.id),
        {"child_id": str(surviving.id), "merged_child_id": str(duplicate.id)},
    )
    session.commit()
    return surviving
