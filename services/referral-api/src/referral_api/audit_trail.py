"""Every read and write of a child's record, recorded in this service's hash-chained
audit log (the shared mechanism in :mod:`safeguarding_kit.audit.service`). Calls join the
caller's transaction: the audit row commits with the change, or the read, it records."""

from __future__ import annotations

from referral_api.database import AUDIT
from safeguarding_kit.audit.service import AuditTrail

DETAIL_LENGTH = 255  # the audit log's detail column

_trail = AuditTrail(AUDIT)
record = _trail.record
# Ends a read: its records appended with those of concurrent reads, in one transaction.
commit_read = _trail.commit_read


def detail(text: str) -> str:
    """``text`` as an audit record's detail: cut to the column, marked where cut."""
    return text if len(text) <= DETAIL_LENGTH else text[: DETAIL_LENGTH - 1] + "\u2026"
