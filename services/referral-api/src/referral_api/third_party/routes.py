"""HTTP handlers for third-party information."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from referral_api.deps import ThirdPartyReader, ThirdPartySender
from referral_api.third_party import service
from referral_api.third_party.schemas import Receipt, ThirdPartyInformationCreate, ThirdPartyInformationRead
from safeguarding_kit.db import SessionDep
from safeguarding_kit.idempotency import IdempotentCreate
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.problems import problem_responses

router = APIRouter(prefix="/api/v1/third-party-information", tags=["third-party-information"])


@router.post(
    "",
    operation_id="submitThirdPartyInformation",
    summary="Pass information to the hub",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Receipt,
    responses=problem_responses(401, 403, 409, 422),
)
def submit_information(
    body: ThirdPartyInformationCreate,
    session: SessionDep,
    principal: ThirdPartySender,
    once: IdempotentCreate,
) -> JSONResponse:
    """For professionals without case access (voluntary and faith sector). The answer is a
    receipt only: what the hub does with it is never shown to the sender."""

    def receive() -> JSONResponse:
        record = service.receive(session, principal, body)
        receipt = Receipt(
            receipt_id=record.id, received_at=record.received_at, message=service.RECEIPT_MESSAGE
        )
        return JSONResponse(receipt.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)

    return once.answer(session, principal, body, receive)


@router.get(
    "",
    operation_id="listThirdPartyInformation",
    summary="Information passed to the hub",
    response_model=Page[ThirdPartyInformationRead],
    responses=problem_responses(400, 401, 403, 422),
)
def list_information(
    session: SessionDep,
    principal: ThirdPartyReader,
    child_id: Annotated[uuid.UUID | None, Query(description="Only those about this child.")] = None,
    limit: LimitParam = 25,
    cursor: CursorParam = None,
) -> Page[ThirdPartyInformationRead]:
    """Newest first, for case workers of the agencies the agreement grants `all_cases`."""
    rows, next_cursor = service.list_information(
        session, principal, child_id=child_id, limit=limit, cursor=cursor
    )
    return Page[ThirdPartyInformationRead](
        items=[ThirdPartyInformationRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/{information_id}",
    operation_id="getThirdPartyInformation",
    summary="Read information passed to the hub",
    response_model=ThirdPartyInformationRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_information(
    information_id: uuid.UUID, session: SessionDep, principal: ThirdPartyReader
) -> ThirdPartyInformationRead:
    """For the hub only; 404 for everyone else, including the sender."""
    return ThirdPartyInformationRead.model_validate(
        service.get_information(session, principal, information_id)
    )
