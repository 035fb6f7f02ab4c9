"""Business rules for disruption actions: recording one against a person or a place of
concern under the partnership's vocabulary, reading and listing them, and changing an
outcome under If-Match. For case workers of agencies granted ``intelligence`` only; every
read and write is audited, once for each child the action protects."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import audit_trail
from referral_api.access import reads_intelligence
from referral_api.children.models import Child
from referral_api.children.service import visible_children
from referral_api.concerns.models import PersonOfConcern, PlaceOfConcern
from referral_api.disruption.events import DisruptionRecorded
from referral_api.disruption.models import (
    DisruptionAction,
    DisruptionActionChild,
    DisruptionOutcome,
    TargetType,
)
from referral_api.disruption.schemas import DisruptionActionCreate, DisruptionOutcomeUpdate
from referral_api.disruption.vocabulary import DisruptionKind, DisruptionVocabulary
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.pagination import paginate
from safeguarding_kit.partnership.policy import Permission, allows
from safeguarding_kit.periods import england_day
from safeguarding_kit.problems import FieldError, Forbidden, NotFound, Problem

RESOURCE = "disruption_action"


class DisruptionActionNotFound(NotFound):
    slug, title = "disruption-action-not-found", "Disruption action not found"


class UnknownDisruptionKind(Problem):
    """The `kind` is not one of the partnership's vocabulary (`GET /api/v1/disruption/kinds`
    lists them); `errors` points at `#/kind`."""

    status, slug, title = 422, "unknown-disruption-kind", "Not a kind of disruption action"


class InvalidDisruptionAction(Problem):
    """The action does not fit its kind: the kind is for the other target type, the outcome is
    not one it takes, its text is missing (`other`) or not asked for, an offence group is given
    to a kind that records none, or a date is in the future or before the action; `errors`
    points at each field."""

    status, slug, title = 422, "invalid-disruption-action", "The action does not fit its kind"


class UnknownDisruptionTarget(Problem):
    """A person or place of concern, or a child, that the action names is not one you can see
    (or not one at all); `errors` points at each id."""

    status, slug, title = 422, "unknown-disruption-target", "No such person, place or child"


def intelligence_hears(session: Session, principal: Principal, subject: str) -> bool:
    """``disruption.recorded`` goes to the webhooks of agencies granted ``intelligence`` (who
    may read the action), and to no one else, whatever children they may see."""
    return allows(principal, Permission.work_intelligence)


def require_intelligence(principal: Principal) -> None:
    if not reads_intelligence(principal):
        raise Forbidden("Disruption actions are for case workers of agencies granted intelligence.")


def today() -> date:
    """Today in England: no action or outcome is dated after it."""
    return england_day(utc_now())


def _names_in(text: str, child: Child) -> bool:
    words = set(re.findall(r"\w+", text.casefold()))
    names = set(re.findall(r"\w+", f"{child.given_name} {child.family_name}".casefold()))
    return bool(words & {name for name in names if len(name) > 1})


def check_against_kind(
    data: DisruptionActionCreate, kind: DisruptionKind, *, on: date, children: Sequence[Child] = ()
) -> list[FieldError]:
    """What in ``data`` does not fit ``kind`` (empty when it all does), as of the day ``on``;
    ``children`` are the linked children, whose names the text must not hold."""
    errors: list[FieldError] = []
    target = TargetType.person if data.person_of_concern_id is not None else TargetType.place
    if target not in kind.applies_to:
        where = " and ".join(f"{t.value}s" for t in kind.applies_to)
        errors.append(
            FieldError(detail=f"{kind.slug} is taken against {where} of concern only", pointer="#/kind")
        )
    if data.outcome not in kind.outcomes:
        takes = ", ".join(o.value for o in kind.outcomes)
        errors.append(FieldError(detail=f"{kind.slug} takes the outcomes {takes}", pointer="#/outcome"))
    if kind.requires_text and not data.other_text:
        errors.append(FieldError(detail=f"say what the {kind.slug} action was", pointer="#/other_text"))
    if not kind.requires_text and data.other_text is not None:
        errors.append(
            FieldError(detail=f"{kind.slug} takes no text; only other does", pointer="#/other_text")
        )
    if data.other_text and any(_names_in(data.other_text, child) for child in children):
        errors.append(FieldError(detail="never a child's name", pointer="#/other_text"))
    if data.offence_group is not None and not kind.records_offence_group:
        errors.append(FieldError(detail=f"{kind.slug} records no offence group", pointer="#/offence_group"))
    if data.action_date > on:
        errors.append(FieldError(detail="not in the future", pointer="#/action_date"))
    errors += check_outcome_date(data.action_date, data.outcome, data.outcome_date, on=on)
    return errors


def check_outcome_date(
    action_date: date, outcome: DisruptionOutcome, outcome_date: date | None, *, on: date
) -> list[FieldError]:
    """An outcome comes neither before its action nor after ``on``; a pending one has no date yet."""
    if outcome is DisruptionOutcome.pending and outcome_date is not None:
        return [FieldError(detail="a pending outcome has no date yet", pointer="#/outcome_date")]
    if outcome_date is not None and not action_date <= outcome_date <= on:
        return [
            FieldError(
                detail="on or after the action's date, and not in the future", pointer="#/outcome_date"
            )
        ]
    return []


def _surviving_id(session: Session, child: Child) -> uuid.UUID:
    """The record a merged child's record now lives in (its own id when never merged)."""
    seen = {child.id}
    while child.merged_into_id is not None and child.merged_into_id not in seen:
        seen.add(child.merged_into_id)
        child = session.get_one(Child, child.merged_into_id)
    return child.id


def _unseen(child_ids: Sequence[uuid.UUID], seen: Iterable[uuid.UUID]) -> list[FieldError]:
    known = set(seen)
    return [
        FieldError(detail="no child you can see", pointer=f"#/child_ids/{i}")
        for i, child_id in enumerate(child_ids)
        if child_id not in known
    ]


def refuse_unseen_children(session: Session, principal: Principal, child_ids: Sequence[uuid.UUID]) -> None:
    """Before a create: :class:`UnknownDisruptionTarget` naming each child the caller may not
    see, each refusal of a child that exists audited (and committed, the create not begun)."""
    if not child_ids:
        return
    visible = set(
        session.scalars(select(Child.id).where(Child.id.in_(child_ids), visible_children(principal)))
    )
    hidden = [child_id for child_id in child_ids if child_id not in visible]
    if not hidden:
        return
    for child_id in session.scalars(select(Child.id).where(Child.id.in_(hidden))):
        audit_trail.record(session, principal, "link", "child", child_id, child_id, outcome="denied")
    audit_trail.commit_read(session)
    raise UnknownDisruptionTarget(
        "The action names a child you cannot see.", errors=_unseen(child_ids, visible)
    )


def _linked_children(session: Session, principal: Principal, child_ids: Sequence[uuid.UUID]) -> list[Child]:
    children = {
        child.id: child
        for child in session.scalars(
            select(Child).where(Child.id.in_(child_ids), visible_children(principal))
        )
    }
    errors = _unseen(child_ids, children)
    if errors:
        raise UnknownDisruptionTarget("The action names a child you cannot see.", errors=errors)
    return [children[child_id] for child_id in dict.fromkeys(child_ids)]


def _check_target(session: Session, data: DisruptionActionCreate) -> None:
    if (data.person_of_concern_id is None) == (data.place_of_concern_id is None):
        detail = "give exactly one of person_of_concern_id and place_of_concern_id"
        raise InvalidDisruptionAction(
            "An action is against one person or one place of concern.",
            errors=[
                FieldError(detail=detail, pointer="#/person_of_concern_id"),
                FieldError(detail=detail, pointer="#/place_of_concern_id"),
            ],
        )
    if (
        data.person_of_concern_id is not None
        and session.get(PersonOfConcern, data.person_of_concern_id) is None
    ):
        raise UnknownDisruptionTarget(
            f"There is no person of concern {data.person_of_concern_id}.",
            errors=[FieldError(detail="no such person of concern", pointer="#/person_of_concern_id")],
        )
    if data.place_of_concern_id is not None and session.get(PlaceOfConcern, data.place_of_concern_id) is None:
        raise UnknownDisruptionTarget(
            f"There is no place of concern {data.place_of_concern_id}.",
            errors=[FieldError(detail="no such place of concern", pointer="#/place_of_concern_id")],
        )


def _kind_of(vocabulary: DisruptionVocabulary, slug: str) -> DisruptionKind:
    kind = vocabulary.kind(slug)
    if kind is None:
        raise UnknownDisruptionKind(
            f"{slug!r} is not a kind of disruption action of this partnership.",
            errors=[
                FieldError(
                    detail=f"one of {', '.join(vocabulary.slugs)} (GET /api/v1/disruption/kinds)",
                    pointer="#/kind",
                )
            ],
        )
    return kind


def _audit(
    session: Session,
    principal: Principal,
    verb: str,
    action: DisruptionAction,
    child_ids: Sequence[uuid.UUID],
    detail: str | None = None,
) -> None:
    """One audit record per child the action protects (one without a child when none)."""
    about: Sequence[uuid.UUID | None] = child_ids or [None]
    for child_id in about:
        audit_trail.record(session, principal, verb, RESOURCE, action.id, child_id, detail=detail)


def record_action(
    session: Session,
    principal: Principal,
    data: DisruptionActionCreate,
    vocabulary: DisruptionVocabulary,
    outbox: Outbox,
) -> tuple[DisruptionAction, list[uuid.UUID]]:
    """A new action and the ids of the children it protects; audited (once per child) and
    announced (``disruption.recorded``, to the intelligence agencies). Does not commit: the
    caller (the idempotent create) commits with its answer."""
    require_intelligence(principal)
    kind = _kind_of(vocabulary, data.kind)
    _check_target(session, data)
    children = _linked_children(session, principal, data.child_ids)
    errors = check_against_kind(data, kind, on=today(), children=children)
    if errors:
        raise InvalidDisruptionAction(f"This {kind.slug} action does not fit its kind.", errors=errors)
    target = TargetType.person if data.person_of_concern_id is not None else TargetType.place
    pending = data.outcome is DisruptionOutcome.pending
    action = DisruptionAction(
        kind=kind.slug,
        target_type=target,
        person_of_concern_id=data.person_of_concern_id,
        place_of_concern_id=data.place_of_concern_id,
        action_date=data.action_date,
        outcome=data.outcome,
        outcome_date=None if pending else data.outcome_date or data.action_date,
        offence_group=data.offence_group,
        reference=data.reference,
        other_text=data.other_text,
        counts_as_charge=kind.counts_as_charge,
        counts_as_conviction=kind.counts_as_conviction,
        recorded_by=principal.sub,
        recorded_by_agency=principal.agency,
        recorded_at=utc_now(),
    )
    session.add(action)
    session.flush()
    child_ids = list(dict.fromkeys(_surviving_id(session, child) for child in children))
    session.add_all(DisruptionActionChild(action_id=action.id, child_id=child_id) for child_id in child_ids)
    session.flush()
    _audit(session, principal, "create", action, child_ids, detail=audit_trail.detail(f"kind:{kind.slug}"))
    # Its audience is the intelligence agencies, not those who may see a child (the subject is
    # the action).
    dataclasses.replace(outbox, partner_audience=intelligence_hears).publish(
        session,
        DisruptionRecorded(
            action_id=action.id, kind=kind.slug, target_type=target, target_id=action.target_id
        ),
    )
    return action, child_ids


def children_of(session: Session, action_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The ids of the children each action protects, each once."""
    wanted = list(action_ids)
    linked: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not wanted:
        return linked
    rows = session.execute(
        select(DisruptionActionChild.action_id, DisruptionActionChild.child_id).where(
            DisruptionActionChild.action_id.in_(wanted)
        )
    )
    for action_id, child_id in rows:
        if child_id not in linked[action_id]:  # a merge may have made two links one child
            linked[action_id].append(child_id)
    return linked


def _get(session: Session, principal: Principal, action_id: uuid.UUID) -> DisruptionAction:
    action = session.get(DisruptionAction, action_id) if reads_intelligence(principal) else None
    if action is None:
        raise DisruptionActionNotFound(f"There is no disruption action {action_id} that you can see.")
    return action


def read_action(
    session: Session, principal: Principal, action_id: uuid.UUID
) -> tuple[DisruptionAction, list[uuid.UUID]]:
    """The action and its children's ids; an audited read of each child. Commits."""
    action = _get(session, principal, action_id)
    child_ids = children_of(session, [action.id])[action.id]
    _audit(session, principal, "read", action, child_ids)
    audit_trail.commit_read(session)
    return action, child_ids


def list_actions(
    session: Session,
    principal: Principal,
    *,
    person_of_concern_id: uuid.UUID | None,
    place_of_concern_id: uuid.UUID | None,
    kind: str | None,
    dated_from: date | None,
    dated_to: date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[DisruptionAction, list[uuid.UUID]]], str | None]:
    """Actions newest recorded first, filtered (dates inclusive, on ``action_date``); each
    listed action an audited read of each child it protects. Commits."""
    require_intelligence(principal)
    stmt = select(DisruptionAction)
    if person_of_concern_id is not None:
        stmt = stmt.where(DisruptionAction.person_of_concern_id == person_of_concern_id)
    if place_of_concern_id is not None:
        stmt = stmt.where(DisruptionAction.place_of_concern_id == place_of_concern_id)
    if kind is not None:
        stmt = stmt.where(DisruptionAction.kind == kind)
    if dated_from is not None:
        stmt = stmt.where(DisruptionAction.action_date >= dated_from)
    if dated_to is not None:
        stmt = stmt.where(DisruptionAction.action_date <= dated_to)
    rows, next_cursor = paginate(
        session,
        stmt,
        created_at=DisruptionAction.recorded_at,
        id_column=DisruptionAction.id,
        limit=limit,
        cursor=cursor,
    )
    linked = children_of(session, [action.id for action in rows])
    for action in rows:
        _audit(session, principal, "list", action, linked[action.id])
    audit_trail.commit_read(session)
    return [(action, linked[action.id]) for action in rows], next_cursor


def update_outcome(
    session: Session,
    principal: Principal,
    action_id: uuid.UUID,
    data: DisruptionOutcomeUpdate,
    vocabulary: DisruptionVocabulary,
    if_match: str | None,
) -> tuple[DisruptionAction, list[uuid.UUID]]:
    """The action with its new outcome, if ``If-Match`` names its current version (428/412
    otherwise); the outcome must be one its kind takes (any, for a kind the vocabulary no
    longer lists). Audited once per child, with the old and new outcome; commits."""
    require_intelligence(principal)
    action = _get(session, principal, action_id)
    check_if_match(if_match, action.row_version)
    kind = vocabulary.kind(action.kind)
    on = today()
    pending = data.outcome is DisruptionOutcome.pending
    outcome_date = None if pending else data.outcome_date or on
    errors = check_outcome_date(
        action.action_date, data.outcome, data.outcome_date if pending else outcome_date, on=on
    )
    if kind is not None and data.outcome not in kind.outcomes:
        takes = ", ".join(o.value for o in kind.outcomes)
        errors.append(FieldError(detail=f"{kind.slug} takes the outcomes {takes}", pointer="#/outcome"))
    if errors:
        raise InvalidDisruptionAction(f"This {action.kind} action cannot take that outcome.", errors=errors)
    before = action.outcome
    action.outcome = data.outcome
    action.outcome_date = outcome_date
    action.updated_by = principal.sub
    action.updated_at = utc_now()
    session.flush()
    child_ids = children_of(session, [action.id])[action.id]
    _audit(
        session,
        principal,
        "update",
        action,
        child_ids,
        detail=f"outcome:{before.value}->{data.outcome.value}",
    )
    session.commit()
    return action, child_ids
