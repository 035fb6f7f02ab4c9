"""Signed checkpoints of a service's audit chain head: tamper evidence that holds against
someone with the database (README, "Audit checkpoints").

The hash chain (:mod:`.service`) shows any record changed, deleted or inserted behind the
audit API's back, but it has no secret: whoever holds the database can delete a record,
recompute every later hash and the head, and :func:`~.service.verify_chain` finds nothing
wrong. As Certificate Transparency's signed tree heads do for a log, a checkpoint fixes the
head as it was: ``{service, seq, hash, taken_at, key_id}`` signed with an Ed25519 key held
outside the database, appended to a store the database cannot rewrite (:class:`CheckpointFile`,
an append-only JSON-lines file; :class:`CheckpointStore` is what an object store would
implement too). Each service takes one every ``AUDIT_CHECKPOINT_INTERVAL_SECONDS`` when its
head has moved (:func:`checkpoint_thread`), and only of a head that extends the previous
checkpoint (:func:`take_checkpoint` refuses, loudly, to sign a rewritten chain).

:func:`verify_against_checkpoints` needs only the public key: it checks each checkpoint's
signature, recomputes the chain from seq 1 from the rows themselves, and compares the hash
at each checkpoint's seq with the signed one. A rewrite shows as the first record after the
last checkpoint that still matches. Records appended since the newest checkpoint are
anchored by nothing yet (at most one interval's worth): they are reported as not yet
anchored, and an attacker could still remove those unseen.

A line of the file, one per checkpoint (keys sorted, no spaces)::

    {"checkpoint":{"hash":"<64 hex>","key_id":"<16 hex>","seq":42,"service":"referral-api",
     "taken_at":"2026-11-24T10:05:00.123456+00:00"},"signature":"<base64>"}

The signature is Ed25519 over ``safeguarding-audit-checkpoint:v1`` and a newline followed by
the checkpoint object's canonical JSON (sorted keys, no spaces); ``key_id`` is the first 16
hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from prometheus_client import Counter
from sqlalchemy.orm import Session

from safeguarding_kit.audit.models import GENESIS_HASH, AuditTables
from safeguarding_kit.audit.service import ChainBreak, chain_head, chain_links
from safeguarding_kit.background import repeating
from safeguarding_kit.db import utc_now

log = logging.getLogger(__name__)

SIGNED_PREFIX = b"safeguarding-audit-checkpoint:v1\n"
_FIELDS = frozenset({"service", "seq", "hash", "taken_at", "key_id"})
_HEX64 = re.compile(r"[0-9a-f]{64}")

CHECKPOINTS = Counter(
    "audit_checkpoints_total",
    "Audit chain checkpoints: written, skipped (the head had not moved) or refused (the chain "
    "no longer extends the last checkpoint: alert on it)",
    ["service", "outcome"],
)


# --- keys ---------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the (unencrypted) PEM file ``path``; ``ValueError`` when it
    is missing or holds something else."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key (openssl genpkey -algorithm ed25519)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file ``path``; ``ValueError`` when it is missing or
    holds something else."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


# --- checkpoints and their lines ----------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A service's audit chain head at a moment: its newest seq and that record's hash."""

    service: str
    seq: int
    hash: str
    taken_at: datetime
    key_id: str

    def fields(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "seq": self.seq,
            "hash": self.hash,
            "taken_at": self.taken_at.astimezone(UTC).isoformat(),
            "key_id": self.key_id,
        }


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    return SIGNED_PREFIX + _canonical(fields)


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: bytes

    def line(self) -> str:
        """The checkpoint's one line in a store (no newline)."""
        return _canonical(
            {"checkpoint": self.checkpoint.fields(), "signature": base64.b64encode(self.signature).decode()}
        ).decode()


@dataclass(frozen=True)
class CheckpointSigner:
    """Signs checkpoints with the private key (AUDIT_CHECKPOINT_KEY_FILE)."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem_file(cls, path: Path) -> CheckpointSigner:
        return cls(load_private_key(path))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def checkpoint(self, service: str, seq: int, hash_: str, taken_at: datetime) -> SignedCheckpoint:
        checkpoint = Checkpoint(service, seq, hash_, taken_at, self.key_id)
        return SignedCheckpoint(checkpoint, self.private_key.sign(_signed_bytes(checkpoint.fields())))


@dataclass(frozen=True)
class StoredCheckpoint:
    """One entry of a store as read back, not yet trusted: where it is, and its text."""

    where: str
    text: str


class RejectedCheckpoint(ValueError):
    """An entry that is not a checkpoint signed by any of the keys given, and why."""


def open_checkpoint(entry: StoredCheckpoint, public_keys: Sequence[Ed25519PublicKey]) -> Checkpoint:
    """The checkpoint ``entry`` holds, once its signature is checked against whichever of
    ``public_keys`` its key id names. :class:`RejectedCheckpoint` for anything else: not a
    checkpoint line, signed by another key, or altered (the signature no longer verifies)."""
    try:
        line = json.loads(entry.text)
        fields, signature = line["checkpoint"], base64.b64decode(line["signature"], validate=True)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise RejectedCheckpoint("not a checkpoint line") from exc
    if not isinstance(line, dict) or set(line) != {"checkpoint", "signature"}:
        raise RejectedCheckpoint("not a checkpoint line")
    if not isinstance(fields, dict) or set(fields) != _FIELDS:
        raise RejectedCheckpoint(f"a checkpoint has exactly the fields {sorted(_FIELDS)}")
    keys = {key_id(key): key for key in public_keys}
    key = keys.get(fields["key_id"]) if isinstance(fields["key_id"], str) else None
    if key is None:
        raise RejectedCheckpoint(
            f"signed by another key (key id {fields['key_id']!r}, not {' or '.join(sorted(keys))})"
        )
    try:
        key.verify(signature, _signed_bytes(fields))
    except InvalidSignature:
        raise RejectedCheckpoint("the signature does not verify: the line was altered or forged") from None
    # Signed by our key, so written by us: still, nothing malformed gets further.
    seq, hash_, service = fields["seq"], fields["hash"], fields["service"]
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise RejectedCheckpoint("seq is not a positive whole number")
    if not isinstance(hash_, str) or not _HEX64.fullmatch(hash_) or not isinstance(service, str):
        raise RejectedCheckpoint("hash or service is malformed")
    try:
        taken_at = datetime.fromisoformat(fields["taken_at"])
    except (TypeError, ValueError) as exc:
        raise RejectedCheckpoint("taken_at is not an ISO 8601 time") from exc
    if taken_at.tzinfo is None:
        raise RejectedCheckpoint("taken_at has no offset")
    return Checkpoint(service, seq, hash_, taken_at, fields["key_id"])


# --- where checkpoints are kept -------------------------------------------------------------


class CheckpointStore(Protocol):
    """Somewhere the database's users cannot rewrite that keeps signed checkpoints: an
    append-only file (:class:`CheckpointFile`); an object store with retention locks (S3
    Object Lock, Azure immutable blobs), one object per checkpoint, would do as well."""

    def append(self, signed: SignedCheckpoint) -> None:
        """Keep ``signed`` durably; return only once it is kept."""

    def entries(self) -> Iterator[StoredCheckpoint]:
        """Every entry, oldest first (the verifier's read)."""

    def newest_first(self) -> Iterator[StoredCheckpoint]:
        """The entries newest first, read lazily (the writer looks only at the last few)."""


@dataclass(frozen=True)
class CheckpointFile:
    """An append-only JSON-lines file, one signed checkpoint a line (AUDIT_CHECKPOINT_FILE).

    Each line is written by one ``write`` on a descriptor opened with ``O_APPEND`` and
    synced: the kernel puts it at the end whoever else appends, so every worker and replica
    of a service may share the file on a local filesystem. On a network filesystem (NFS)
    ``O_APPEND`` is not atomic: give each replica its own file there (the verifier reads
    several). Put the file where the database's users and the service cannot rewrite it:
    a volume of its own, shipped on to write-once storage, or made append-only
    (``chattr +a``)."""

    path: Path
    block: int = 8192

    def append(self, signed: SignedCheckpoint) -> None:
        data = signed.line().encode() + b"\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # Held from the look at the last byte to the write: another writer's line in
            # flight is not taken for one cut short (released when the descriptor closes).
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            # A line cut short (a full disk, a crash) would swallow this one: start afresh.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            if os.write(fd, data) != len(data):
                raise OSError(f"{self.path}: the checkpoint line was written in part")
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[StoredCheckpoint]:
        with self.path.open("rb") as file:
            for number, raw in enumerate(file, start=1):
                if raw.strip():
                    yield StoredCheckpoint(f"{self.path}:{number}", raw.decode("utf-8", "replace"))

    def newest_first(self) -> Iterator[StoredCheckpoint]:
        try:
            file = self.path.open("rb")
        except FileNotFoundError:
            return
        with file:
            position = file.seek(0, os.SEEK_END)
            partial = b""
            while position > 0:
                step = min(self.block, position)
                position -= step
                file.seek(position)
                lines = (file.read(step) + partial).split(b"\n")
                partial = lines[0]  # may start before this block: kept for the next one
                for raw in reversed(lines[1:]):
                    if raw.strip():
                        yield StoredCheckpoint(f"{self.path} (near the end)", raw.decode("utf-8", "replace"))
            if partial.strip():
                yield StoredCheckpoint(f"{self.path}:1", partial.decode("utf-8", "replace"))


# --- taking checkpoints ---------------------------------------------------------------------


Outcome = Literal["written", "unchanged", "empty", "refused"]


@dataclass(frozen=True)
class CheckpointTaken:
    """What one turn of the checkpoint loop did: wrote ``checkpoint``, found the head where
    the last checkpoint left it (or no record yet), or refused (``reason``)."""

    outcome: Outcome
    checkpoint: Checkpoint | None = None
    reason: str | None = None


def last_checkpoint(store: CheckpointStore, service: str, key: Ed25519PublicKey) -> Checkpoint | None:
    """The newest checkpoint of ``service`` in ``store`` signed by ``key``, if any."""
    for entry in store.newest_first():
        try:
            checkpoint = open_checkpoint(entry, [key])
        except RejectedCheckpoint:
            continue  # another key's, another's line, or damaged: the verifier reports those
        if checkpoint.service == service:
            return checkpoint
    return None


def _does_not_extend(
    session: Session, tables: AuditTables, last: Checkpoint | None, head: tuple[int, str]
) -> str | None:
    """Why the chain up to ``head`` does not extend the ``last`` checkpoint (``None`` when it
    does): the records after it must link on from its hash to the head's."""
    head_seq, head_hash = head
    if last is not None and head_seq <= last.seq:
        return (
            f"the chain head (seq {head_seq}) no longer matches the last checkpoint (seq {last.seq}, "
            f"taken {last.taken_at.isoformat()}): the chain was rewritten"
        )
    start = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    since = f"since the last checkpoint (seq {last.seq})" if last is not None else "from seq 1"
    for link in chain_links(session, tables.log, after=start):
        if isinstance(link, ChainBreak):
            return f"the chain {since} is broken at seq {link.seq}: {link.reason}"
        seq, hash_ = link
        if seq == head_seq:
            return None if hash_ == head_hash else f"the chain head does not match record {seq}"
    return f"the chain {since} ends before the head (seq {head_seq})"


def take_checkpoint(
    sessions: Callable[[], Session],
    tables: AuditTables,
    signer: CheckpointSigner,
    store: CheckpointStore,
    service: str,
    *,
    now: Callable[[], datetime] = utc_now,
) -> CheckpointTaken:
    """Sign and keep a checkpoint of ``service``'s chain head if it moved since the last one.

    The head is read in a transaction of its own, so only committed records are anchored.
    The records since the last checkpoint (all of them for the first) are walked first: a
    head that does not extend the last checkpoint (the chain was rewritten) is refused,
    logged as an error and counted (``audit_checkpoints_total{outcome="refused"}``), never
    signed."""
    last = last_checkpoint(store, service, signer.public_key)
    with sessions() as session:
        head = chain_head(session, tables)
        if head[0] == 0:
            return CheckpointTaken("empty")
        if last is not None and head == (last.seq, last.hash):
            CHECKPOINTS.labels(service, "unchanged").inc()
            return CheckpointTaken("unchanged", last)
        problem = _does_not_extend(session, tables, last, head)
    if problem is not None:
        CHECKPOINTS.labels(service, "refused").inc()
        log.error("%s: audit checkpoint refused: %s", service, problem)
        return CheckpointTaken("refused", last, problem)
    signed = signer.checkpoint(service, head[0], head[1], now())
    store.append(signed)
    CHECKPOINTS.labels(service, "written").inc()
    return CheckpointTaken("written", signed.checkpoint)


@contextmanager
def checkpoint_thread(
    sessions: Callable[[], Session],
    tables: AuditTables,
    signer: CheckpointSigner,
    store: CheckpointStore,
    service: str,
    every: float,
) -> Iterator[None]:
    """Checkpoints of the chain head while the block runs: one at start, one every ``every``
    seconds when the head has moved, and a last one as the block ends (a process stopping)."""

    def cycle() -> None:
        take_checkpoint(sessions, tables, signer, store, service)

    with repeating(f"{service}-audit-checkpoints", cycle, every, at_start=True):
        yield
    try:
        cycle()
    except Exception:
        log.exception("%s: the last audit checkpoint failed", service)


# --- verifying with the public key only -----------------------------------------------------


@dataclass(frozen=True)
class RejectedLine:
    """A store entry that is not a checkpoint signed by the key: where, and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class CheckpointVerification:
    """The result of :func:`verify_against_checkpoints`.

    ``ok``: every entry is a checkpoint signed by the key, and the chain recomputed from its
    rows gives each checkpoint's hash at its seq. ``last_good`` is the newest checkpoint the
    chain still matches; when the chain does not match, ``first_broken_seq`` is the first
    record after it that can no longer be trusted and ``reason`` says why (and ``first_bad``
    is the checkpoint that shows it, if one does). ``unanchored``: records after the newest
    checkpoint, checked as a chain but vouched for by no checkpoint yet."""

    ok: bool
    service: str | None
    checked: int
    checkpoints: int
    last_good: Checkpoint | None = None
    first_bad: Checkpoint | None = None
    first_broken_seq: int | None = None
    reason: str | None = None
    unanchored: int = 0
    rejected: tuple[RejectedLine, ...] = ()


def verify_against_checkpoints(
    session: Session,
    tables: AuditTables,
    checkpoints: Iterable[StoredCheckpoint],
    public_key: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    *,
    service: str | None = None,
    batch: int = 1000,
) -> CheckpointVerification:
    """Check the audit chain in ``session``'s database against signed checkpoints, with the
    public key alone (several after a key rotation).

    Each entry's signature is checked first: one that is not a checkpoint signed by the key
    (altered, forged, another key's) is reported in ``rejected`` and makes ``ok`` false.
    Then the chain is recomputed from seq 1 from the rows, and at each checkpoint's seq the
    hash the rows give now is compared with the signed one: the first that differs (or that
    the chain no longer reaches) fails, and the first record after the last checkpoint that
    still matches is where it was rewritten. Checkpoints of other services in the same store
    are left aside when ``service`` is given; without it, the checkpoints must all be of one
    service (``ValueError`` otherwise)."""
    keys = [public_key] if isinstance(public_key, Ed25519PublicKey) else list(public_key)
    accepted: list[Checkpoint] = []
    rejected: list[RejectedLine] = []
    for entry in checkpoints:
        try:
            accepted.append(open_checkpoint(entry, keys))
        except RejectedCheckpoint as exc:
            rejected.append(RejectedLine(entry.where, str(exc)))
    if service is None:
        services = sorted({checkpoint.service for checkpoint in accepted})
        if len(services) > 1:
            raise ValueError(f"the checkpoints are of several services ({', '.join(services)}): say which")
        service = services[0] if services else None
    else:
        accepted = [checkpoint for checkpoint in accepted if checkpoint.service == service]
    accepted.sort(key=lambda checkpoint: (checkpoint.seq, checkpoint.taken_at))

    def result(ok: bool, checked: int, last_good: Checkpoint | None, **found: Any) -> CheckpointVerification:
        return CheckpointVerification(
            ok, service, checked, len(accepted), last_good, rejected=tuple(rejected), **found
        )

    def broken(
        checked: int, last_good: Checkpoint | None, bad: Checkpoint | None, why: str
    ) -> CheckpointVerification:
        first = last_good.seq + 1 if last_good is not None else 1
        return result(False, checked, last_good, first_bad=bad, first_broken_seq=first, reason=why)

    waiting = iter(accepted)
    due = next(waiting, None)
    last_good: Checkpoint | None = None
    checked = 0
    for link in chain_links(session, tables.log, batch=batch):
        if isinstance(link, ChainBreak):
            # Broken in plain sight (no rehash): verify_chain sees it too; it is exact.
            return result(
                False,
                checked,
                last_good,
                first_bad=due,
                first_broken_seq=link.seq,
                reason=f"the chain itself is broken: {link.reason}",
            )
        checked, hash_ = link
        while due is not None and due.seq == checked:
            if due.hash != hash_:
                first = last_good.seq + 1 if last_good is not None else 1
                return broken(
                    checked,
                    last_good,
                    due,
                    f"the records from seq {first} to {due.seq} no longer give the hash signed at seq "
                    f"{due.seq} (checkpoint taken {due.taken_at.isoformat()}): one of them was changed, "
                    "removed or inserted",
                )
            last_good, due = due, next(waiting, None)
    if due is not None:
        first = last_good.seq + 1 if last_good is not None else 1
        return broken(
            checked,
            last_good,
            due,
            f"the chain ends at seq {checked}, before the checkpoint at seq {due.seq} (taken "
            f"{due.taken_at.isoformat()}): records from seq {first} on were removed or rewritten",
        )
    unanchored = checked - (last_good.seq if last_good is not None else 0)
    if rejected:
        reason = f"{len(rejected)} checkpoint line(s) are not checkpoints signed by this key: " + "; ".join(
            f"{line.where}: {line.reason}" for line in rejected
        )
        return result(False, checked, last_good, reason=reason, unanchored=unanchored)
    if last_good is None:
        return result(
            False,
            checked,
            None,
            reason="no checkpoint signed by this key to verify against",
            unanchored=unanchored,
        )
    return result(True, checked, last_good, unanchored=unanchored)
