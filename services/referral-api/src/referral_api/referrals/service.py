"""Business rules for referrals, as plain functions over a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from referral_api.access import sees_all_cases
from referral_api.referrals.models import Referral, ReferralStatus
from referral_api.referrals.schemas import ReferralCreate
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, NotFound


class ReferralNotFound(NotFound):
    slug = "referral-not-found"
    title = "Referral not found"


class DuplicateSourceReference(Conflict):
    slug = "duplicate-source-reference"
    title = "Source reference already used"


@dataclass(frozen=True)
class ReferralFilters:
    status: ReferralStatus | None = None


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    if sees_all_cases(principal):
        return true()
    return Referral.agency == principal.agency


def create_referral(session: Session, principal: Principal, data: ReferralCreate) -> Referral:
    """Record a referral from the caller's agency; 409 if its source reference was used."""
    referral = Referral(
        agency=principal.agency,
        agency_type=principal.agency_type,
        submitted_by=principal.sub,
        source_reference=data.source_reference,
        concern_types=[c.value for c in data.concern_types],
        summary=data.summary,
        urgency=data.urgency,
        status=ReferralStatus.received,
    )
    session.add(referral)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateSourceReference(
            f"Your agency already sent a referral with source_reference '{data.source_reference}'."
        ) from exc
    return referral


def get_referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> Referral:
    """The referral, if the caller may see it; otherwise :class:`ReferralNotFound`."""
    referral = session.scalar(select(Referral).where(Referral.id == referral_id, _visible_to(principal)))
    if referral is None:
        raise ReferralNotFound(f"There is no referral {referral_id} that you can see.")
    return referral


def list_referrals(
    session: Session,
    principal: Principal,
    filters: ReferralFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Referral], str | None]:
    """Referrals the caller may see, newest first, one page at a time."""
    stmt = select(Referral).where(_visible_to(principal))
    if filters.status is not None:
        stmt = stmt.where(Referral.status == filters.status)
    return paginate(
        session,
        stmt,
        created_at=Referral.received_at,
        id_column=Referral.id,
        limit=limit,
        cursor=cursor,
    )
