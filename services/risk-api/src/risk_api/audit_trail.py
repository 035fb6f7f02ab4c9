"""Every read and write of a child's risk, in this service's hash-chained audit log.
Calls join the caller's transaction."""

from __future__ import annotations

from risk_api.database import AUDIT
from safeguarding_kit.audit.service import AuditTrail

record = AuditTrail(AUDIT).record
