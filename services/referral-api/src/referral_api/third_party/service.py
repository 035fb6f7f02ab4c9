"""Business rules for third-party information."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import sees_all_cases
from referral_api.children.models import Child
from referral_api.children.service import name_key
from referral_api.third_party.models import ThirdPartyInformation
from referral_api.third_party.schemas import ChildAsKnown, ThirdPartyInformationCreate
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, NotFound

RECEIPT_MESSAGE = (
    "Received by the safeguarding hub. Thank you: the hub will act on it and may contact you. "
    "You will not be told the outcome."
)


class InformationNotFound(NotFound):
    slug, title = "third-party-information-not-found", "Information not found"


class DuplicateInformation(Conflict):
    slug, title = "duplicate-source-reference", "Source reference already used"


def match_child(session: Session, known: ChildAsKnown) -> uuid.UUID | None:
    """The one known child these details point to: by NHS number, else by names and
    date of birth, each only when exactly one current record matches (several records
    may carry one number while they wait for the hub to review them as duplicates)."""
    if known.nhs_number:
        holders = list(
            session.scalars(
                select(Child.id)
                .where(Child.nhs_number == known.nhs_number, Child.merged_into_id.is_(None))
                .limit(2)
            )
        )
        if len(holders) == 1:
            return holders[0]
    if known.given_name and known.family_name and known.date_of_birth:
        ids = list(
            session.scalars(
                select(Child.id)
                .where(
                    Child.name_key == name_key(known.given_name, known.family_name),
                    Child.date_of_birth == known.date_of_birth,
                    Child.merged_into_id.is_(None),
                )
                .limit(2)
            )
        )
        if len(ids) == 1:
            return ids[0]
    return None


def receive(
    session: Session, principal: Principal, body: ThirdPartyInformationCreate
) -> ThirdPartyInformation:
    """Store the information, matched to a child when one matches. The sender's agency is
    not linked to the child: information flows to the hub only. Audited. Does not commit:
    the caller (the idempotent create) commits with its answer."""
    record = ThirdPartyInformation(
        id=uuid.uuid4(),
        agency=principal.agency,
        agency_type=principal.agency_type,
        submitted_by=principal.sub,
        source_reference=body.source_reference,
        informant_name=body.informant.name,
        informant_role=body.informant.role,
        informant_organisation=body.informant.organisation,
        informant_contact=body.informant.contact,
        child_given_name=body.child.given_name,
        child_family_name=body.child.family_name,
        child_date_of_birth=body.child.date_of_birth,
        child_nhs_number=body.child.nhs_number,
        child_description=body.child.description,
        information=body.information,
        concern_types=[c.value for c in body.concern_types],
        lawful_basis=body.lawful_basis.basis,
        lawful_basis_reason=body.lawful_basis.reason,
        child_id=match_child(session, body.child),
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateInformation(
            f"Your agency already sent information with source_reference '{body.source_reference}'."
        ) from exc
    audit_trail.record(session, principal, "create", "third_party_information", record.id, record.child_id)
    return record


def get_information(
    session: Session, principal: Principal, information_id: uuid.UUID
) -> ThirdPartyInformation:
    """The record for the hub (case workers of ``all_cases`` agencies); 404 for everyone else,
    senders included."""
    record = session.get(ThirdPartyInformation, information_id) if sees_all_cases(principal) else None
    if record is None:
        raise InformationNotFound(f"There is no third-party information {information_id} that you can see.")
    audit_trail.record(session, principal, "read", "third_party_information", record.id, record.child_id)
    session.commit()
    return record


def list_information(
    session: Session, principal: Principal, *, child_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[ThirdPartyInformation], str | None]:
    """Newest first, for the hub only (others see an empty list); audited."""
    if not sees_all_cases(principal):
        return [], None
    stmt = select(ThirdPartyInformation)
    if child_id is not None:
        stmt = stmt.where(ThirdPartyInformation.child_id == child_id)
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=ThirdPartyInformation.received_at,
        id_column=ThirdPartyInformation.id,
        limit=limit,
        cursor=cursor,
    )
    for record in rows:
        audit_trail.record(session, principal, "list", "third_party_information", record.id, record.child_id)
    session.commit()
    return rows, next_cursor
