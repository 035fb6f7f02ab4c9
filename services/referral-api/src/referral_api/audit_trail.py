"""Every read and write of a child's record, recorded in this service's hash-chained
audit log (the shared mechanism in :mod:`safeguarding_kit.audit`). Calls join the
caller's transaction: the audit row commits with the change, or the read, it records."""

from __future__ import annotations

from referral_api.database import AUDIT
from safeguarding_kit.audit import AuditTrail

record = AuditTrail(AUDIT).record
