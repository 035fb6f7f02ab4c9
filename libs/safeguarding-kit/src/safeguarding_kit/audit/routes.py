"""Auditors' endpoints over a service's audit trail: a child's access history and a
check that the hash chain is intact. Each service mounts the access log under its own
child path; the verification follows the one scheme of :class:`ServiceLabel`.

An auditor of an agency the agreement grants ``audits`` (information governance) reads
every record and verifies the chain; any other agency's auditor reads only the records
of their own agency's people."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from safeguarding_kit.audit.models import AuditTables
from safeguarding_kit.audit.schemas import AuditEntry, ChainVerificationRead
from safeguarding_kit.audit.service import access_log, verify_chain
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import SessionDep
from safeguarding_kit.pagination import CursorParam, LimitParam, Page
from safeguarding_kit.partnership.policy import GovernanceAuditor, Permission, allows, requires
from safeguarding_kit.problems import problem_responses
from safeguarding_kit.service_label import ServiceLabel

Auditor = Annotated[Principal, Depends(requires(Permission.audit_all_agencies, Permission.audit_own_agency))]


def audit_router(
    tables: AuditTables, *, service: ServiceLabel, access_log_path: str, access_log_operation_id: str
) -> APIRouter:
    """The two auditor endpoints over ``tables``: the access log at the service's own child
    path, and the chain's verification at ``/api/v1/audit/<name>-service/verification``
    (``verify<Name>AuditChain``), one scheme for every service."""
    router = APIRouter(tags=["audit"])

    @router.get(
        access_log_path,
        operation_id=access_log_operation_id,
        summary="Who read or changed a child's record",
        response_model=Page[AuditEntry],
        responses=problem_responses(400, 401, 403, 422),
    )
    def child_access_log(
        child_id: uuid.UUID,
        session: SessionDep,
        principal: Auditor,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> Page[AuditEntry]:
        """Auditors only: every access to the child's record here, newest first, refusals
        included; an auditor of an agency without `audits` sees their own agency's people only."""
        own_agency_only = not allows(principal, Permission.audit_all_agencies)
        entries, next_cursor = access_log(
            session,
            tables,
            child_id=child_id,
            limit=limit,
            cursor=cursor,
            actor_agency=principal.agency if own_agency_only else None,
        )
        return Page[AuditEntry](items=entries, next_cursor=next_cursor)

    @router.get(
        f"{service.audit_prefix}/verification",
        operation_id=service.operation_id("verify", "AuditChain"),
        summary="Check the audit chain is intact",
        response_model=ChainVerificationRead,
        responses=problem_responses(401, 403),
    )
    def verify_audit_chain(session: SessionDep, principal: GovernanceAuditor) -> ChainVerificationRead:
        """Recomputes every record's hash: any changed, deleted or inserted record shows
        as `ok: false` with the first broken sequence number."""
        result = verify_chain(session, tables)
        return ChainVerificationRead(
            ok=result.ok,
            checked=result.checked,
            first_broken_seq=result.first_broken_seq,
            reason=result.reason,
        )

    return router
