"""HTTP handlers for disruption actions and the vocabulary of their kinds."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from referral_api.deps import IntelligenceReader, IntelligenceWorker
from referral_api.disruption import service
from referral_api.disruption.models import DisruptionAction
from referral_api.disruption.schemas import (
    DisruptionActionCreate,
    DisruptionActionRead,
    DisruptionOutcomeUpdate,
    DisruptionVocabularyRead,
)
from referral_api.disruption.vocabulary import DisruptionVocabulary, load_vocabulary
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import IfMatchHeader, VersionedJSONResponse, json_with_etag
from safeguarding_kit.db import SessionDep
from safeguarding_kit.events import OutboxDep
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import Permission, requires
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/disruption", tags=["disruption"])

# The vocabulary is no secret: intelligence workers record by it, and figure readers read the
# figures by its kinds.
VocabularyReader = Annotated[
    Principal, Depends(requires(Permission.work_intelligence, Permission.read_figures))
]


def vocabulary_in_force(request: Request) -> DisruptionVocabulary:
    """The partnership's vocabulary (``DISRUPTION_VOCABULARY_FILE``), or the platform's default."""
    return load_vocabulary(getattr(request.app.state.settings, "disruption_vocabulary_file", None))


VocabularyInForce = Annotated[DisruptionVocabulary, Depends(vocabulary_in_force)]


def _body(action: DisruptionAction, child_ids: list[uuid.UUID]) -> DisruptionActionRead:
    body = DisruptionActionRead.model_validate(action)
    body.child_ids = child_ids
    return body


def _answer(
    action: DisruptionAction, child_ids: list[uuid.UUID], status_code: int = 200
) -> VersionedJSONResponse:
    return json_with_etag(
        _body(action, child_ids),
        action.row_version,
        status_code,
        headers={"Location": f"/api/v1/disruption/actions/{action.id}"},
    )


@router.post(
    "/actions",
    operation_id="recordDisruptionAction",
    summary="Record a disruption action against a person or place of concern",
    status_code=status.HTTP_201_CREATED,
    response_model=DisruptionActionRead,
    responses=problem_responses(401, 403, 422),
)
def record_action(
    body: DisruptionActionCreate,
    session: SessionDep,
    principal: IntelligenceWorker,
    vocabulary: VocabularyInForce,
    outbox: OutboxDep,
    once: IdempotentCreate,
) -> VersionedJSONResponse:
    """Case workers of agencies granted `intelligence` only (403 for anyone else). A child
    abduction warning notice, an arrest, a charge, a conviction, a Sexual Risk Order, a
    closure order, a licence review or revocation... (`kind`, from the partnership's
    vocabulary: `GET /api/v1/disruption/kinds`) against one person of concern
    (`person_of_concern_id`, from `createPersonOfConcern`) or one place of concern
    (`place_of_concern_id`, from `createPlaceOfConcern`), with the children it protects by id
    (each one you can see; never a name). A kind not in the vocabulary is 422
    `unknown-disruption-kind`; a kind for the other target type, an outcome the kind does not
    take, a missing `other_text` for `other` (or text for any other kind), a child's name in
    the text, or a date in the future is 422 `invalid-disruption-action`; a person, place or
    child you cannot see is 422 `unknown-disruption-target`; each names the field. A later
    outcome of the same action is `updateDisruptionOutcome`; a new step (a charge after an
    arrest, a conviction after a charge) is a new action. Audited once for each child;
    announced to the intelligence agencies' webhooks as `disruption.recorded` (ids and kinds
    only)."""
    service.refuse_unseen_children(session, principal, body.child_ids)

    def create() -> VersionedJSONResponse:
        action, child_ids = service.record_action(session, principal, body, vocabulary, outbox)
        return _answer(action, child_ids, 201)

    return once.answer(session, principal, body, create)


@router.get(
    "/actions",
    operation_id="listDisruptionActions",
    summary="Disruption actions",
    response_model=Page[DisruptionActionRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_actions(
    session: SessionDep,
    principal: IntelligenceWorker,
    person_of_concern_id: Annotated[
        uuid.UUID | None, Query(description="Only actions against this person of concern.")
    ] = None,
    place_of_concern_id: Annotated[
        uuid.UUID | None, Query(description="Only actions against this place of concern.")
    ] = None,
    kind: Annotated[
        str | None, Query(max_length=63, description="Only actions of this kind (its slug).")
    ] = None,
    dated_from: Annotated[
        date | None, Query(alias="from", description="Only actions dated on or after this day.")
    ] = None,
    dated_to: Annotated[
        date | None, Query(alias="to", description="Only actions dated on or before this day.")
    ] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[DisruptionActionRead]:
    """Case workers of agencies granted `intelligence` only (403 for anyone else). Newest
    recorded first, filtered by target, kind and `action_date` (`from`/`to`, both days
    included). Each listed action is an audited read of each child it protects."""
    rows, next_cursor = service.list_actions(
        session,
        principal,
        person_of_concern_id=person_of_concern_id,
        place_of_concern_id=place_of_concern_id,
        kind=kind,
        dated_from=dated_from,
        dated_to=dated_to,
        limit=limit,
        cursor=cursor,
    )
    return Page[DisruptionActionRead](
        items=[_body(action, child_ids) for action, child_ids in rows], next_cursor=next_cursor
    )


@router.get(
    "/actions/{action_id}",
    operation_id="getDisruptionAction",
    summary="Read a disruption action",
    response_model=DisruptionActionRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_action(
    action_id: uuid.UUID, session: SessionDep, principal: IntelligenceReader
) -> VersionedJSONResponse:
    """404 for everyone outside the agencies granted `intelligence`, as for an action that does
    not exist. The action with its `ETag` (send it in `If-Match` to change the outcome); an
    audited read of each child it protects."""
    action, child_ids = service.read_action(session, principal, action_id)
    return _answer(action, child_ids)


@router.patch(
    "/actions/{action_id}",
    operation_id="updateDisruptionOutcome",
    summary="Change a disruption action's outcome",
    response_model=DisruptionActionRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_outcome(
    action_id: uuid.UUID,
    body: DisruptionOutcomeUpdate,
    session: SessionDep,
    principal: IntelligenceReader,
    vocabulary: VocabularyInForce,
    if_match: IfMatchHeader,
) -> VersionedJSONResponse:
    """Needs `If-Match` (428 without it, 412 when the action changed since). The outcome of the
    same action as it comes: an application pending then granted or refused, a notice issued
    then withdrawn, a charge convicted, acquitted or withdrawn. The outcome must be one the
    action's kind takes (422 `invalid-disruption-action` naming `#/outcome`); `outcome_date` is
    today unless given, and none while pending. Kind, target, date and children never change:
    a new step (a conviction after a charge) is a new action (`recordDisruptionAction`), so
    each step is counted on its own date. Audited once for each child."""
    action, child_ids = service.update_outcome(session, principal, action_id, body, vocabulary, if_match)
    return _answer(action, child_ids)


@router.get(
    "/kinds",
    operation_id="listDisruptionKinds",
    summary="The kinds of disruption action this partnership records",
    response_model=DisruptionVocabularyRead,
    responses=problem_responses(401, 403),
)
def list_kinds(principal: VocabularyReader, vocabulary: VocabularyInForce) -> DisruptionVocabularyRead:
    """The partnership's vocabulary (`DISRUPTION_VOCABULARY_FILE`, or the platform's default):
    each kind's slug, label, whether it is taken against persons or places of concern, the
    outcomes it takes, whether it counts as a charge or a conviction in the figures
    (`getDisruptionFigures`), and the power it is taken under with where to read it."""
    return DisruptionVocabularyRead(version=vocabulary.version, kinds=vocabulary.kinds)
