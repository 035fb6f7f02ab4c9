"""Which requests the gateway may send again, to another replica or the same one, when
the connection for them could not be made.

A connection that could not be made carried nothing, so in principle any request could be
sent again; the gateway is conservative all the same, in case a failure is ever reported
as one to connect after bytes left: it retries only a request that would be safe to
repeat even had it arrived.

- ``GET``, ``HEAD`` and ``OPTIONS``: safe methods, they change nothing.
- Any request with an ``Idempotency-Key``: the operations that create records declare it
  and make one record per key, answering a repeat with the first answer (README,
  "Retries of every create").
- ``PUT`` and ``DELETE`` with a specific ``If-Match``: idempotent methods made
  conditional on one version, which a repeat after the first took effect no longer
  matches (412).

Everything else is tried once: a ``POST`` without a key (a workflow transition, say, even
with ``If-Match``: a ``POST`` need not be idempotent), a ``PATCH``, and a ``PUT`` or
``DELETE`` without ``If-Match`` or with ``If-Match: *``.
"""

from __future__ import annotations

from collections.abc import Mapping

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONDITIONALLY_REPEATABLE_METHODS = frozenset({"PUT", "DELETE"})


def may_retry(method: str, headers: Mapping[str, str]) -> bool:
    """True when a request that never reached a service may be sent again (``headers`` is
    looked up by lower-case name, as Starlette's are)."""
    method = method.upper()
    if method in SAFE_METHODS:
        return True
    if headers.get("idempotency-key", "").strip():
        return True
    if_match = headers.get("if-match", "").strip()
    return method in CONDITIONALLY_REPEATABLE_METHODS and bool(if_match) and if_match != "*"
