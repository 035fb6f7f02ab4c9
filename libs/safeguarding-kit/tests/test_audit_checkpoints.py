"""Signed checkpoints of the audit chain head, as a specification: the rewrite a hash chain
alone cannot see (someone with the database deletes a refused read and rehashes the rest),
caught by checkpoints signed with a key the database never holds and checked with the public
key alone; an altered or forged checkpoint line reported; records newer than the last
checkpoint reported as not yet anchored, not as tampered; the background loop that takes the
checkpoints; and the data protection officer's command. On SQLite, or on PostgreSQL when
TEST_DATABASE_URL is set."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, MetaData, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from safeguarding_kit.audit import verify
from safeguarding_kit.audit.checkpoints import (
    CheckpointFile,
    CheckpointSigner,
    CheckpointTaken,
    CheckpointVerification,
    checkpoint_thread,
    take_checkpoint,
    verify_against_checkpoints,
)
from safeguarding_kit.audit.models import GENESIS_HASH, AuditTables, audit_tables
from safeguarding_kit.audit.service import ChainVerification, append_audit, record_hash, verify_chain
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import create_db_engine, service_metadata
from safeguarding_kit.service_app import create_service_app
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.throwaway_database import provisioned_database

SERVICE = "referral-api"
OFFICER = Principal(
    sub="pc.amira.khan@south-yorkshire.police.example",
    agency="south-yorkshire-police",
    agency_type=AgencyType.police,
    roles=frozenset({Role.practitioner}),
)
# A GP surgery's practitioner refused a child they are not linked to: the record an insider
# would want gone.
REFUSED = Principal(
    sub="dr.lee@norfolk-park-medical-practice.nhs.example",
    agency="norfolk-park-medical-practice",
    agency_type=AgencyType.health,
    roles=frozenset({Role.practitioner}),
)
CHILD = uuid.UUID("5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b")


def write_private_key(path: Path, key: Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def write_public_key(path: Path, key: Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@dataclass
class Trail:
    """A service's audit tables on a fresh database, its checkpoint signer (the key the
    service holds outside the database) and its checkpoint file."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    tables: AuditTables
    signer: CheckpointSigner
    file: CheckpointFile

    def append(self, n: int = 1, *, principal: Principal = OFFICER, outcome: str = "allowed") -> list[int]:
        """``n`` reads of the child, each committed on its own; their seqs."""
        seqs = []
        for _ in range(n):
            with self.sessions() as session:
                seqs.append(
                    append_audit(
                        session,
                        self.tables,
                        principal=principal,
                        action="read",
                        resource_type="child",
                        resource_id=str(CHILD),
                        child_id=CHILD,
                        outcome=outcome,
                    )
                )
                session.commit()
        return seqs

    def checkpoint(self) -> CheckpointTaken:
        """One turn of the service's checkpoint loop."""
        return take_checkpoint(self.sessions, self.tables, self.signer, self.file, SERVICE)

    def verify_chain(self) -> ChainVerification:
        with self.sessions() as session:
            return verify_chain(session, self.tables)

    def verify(self, public_key: Any = None, **kwargs: Any) -> CheckpointVerification:
        """What the data protection officer runs: the rows, the file, the public key."""
        with self.sessions() as session:
            return verify_against_checkpoints(
                session,
                self.tables,
                self.file.entries(),
                public_key or self.signer.public_key,
                **kwargs,
            )

    def lines(self) -> list[str]:
        return self.file.path.read_text().splitlines() if self.file.path.exists() else []

    # --- the attacker, who has the database (and knows the published hash recipe) ---

    def delete_and_rehash(self, seq: int) -> None:
        """Delete record ``seq``, renumber the later ones into its place and recompute every
        later hash and the chain head, as someone with write access to the database can."""
        log = self.tables.log
        with self.engine.begin() as conn:
            conn.execute(delete(log).where(log.c.seq == seq))
            later = conn.execute(select(log.c.seq).where(log.c.seq > seq).order_by(log.c.seq)).scalars()
            for old in list(later):
                conn.execute(update(log).where(log.c.seq == old).values(seq=old - 1))
            self._rehash_from(conn, seq)

    def alter_and_rehash(self, seq: int, **changes: Any) -> None:
        """Change record ``seq`` and recompute its hash, every later one and the head."""
        log = self.tables.log
        with self.engine.begin() as conn:
            conn.execute(update(log).where(log.c.seq == seq).values(**changes))
            self._rehash_from(conn, seq)

    def _rehash_from(self, conn: Connection, seq: int) -> None:
        log, head = self.tables.log, self.tables.head
        prev = conn.execute(select(log.c.hash).where(log.c.seq == seq - 1)).scalar() or GENESIS_HASH
        for row in conn.execute(select(log).where(log.c.seq >= seq).order_by(log.c.seq)).all():
            rehashed = record_hash(prev, dict(row._mapping))
            conn.execute(update(log).where(log.c.seq == row.seq).values(prev_hash=prev, hash=rehashed))
            prev = rehashed
        newest = conn.execute(select(func.max(log.c.seq))).scalar() or 0
        conn.execute(update(head).values(last_seq=newest, last_hash=prev))


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[Trail]:
    metadata: MetaData = service_metadata()
    tables = audit_tables(metadata)
    with provisioned_database("audit-checkpoints", tmp_path) as url:
        engine = create_db_engine(url)
        metadata.create_all(engine)
        yield Trail(
            url,
            engine,
            sessionmaker(engine, expire_on_commit=False),
            tables,
            CheckpointSigner(Ed25519PrivateKey.generate()),
            CheckpointFile(tmp_path / "referral-checkpoints.jsonl"),
        )
        engine.dispose()


# --- the attack ----------------------------------------------------------------------------


def test_someone_with_the_database_deletes_a_refused_read_rehashes_the_rest_and_the_chain_alone_says_intact(
    trail: Trail,
) -> None:
    # What the chain alone cannot see: the attack the checkpoints below must catch.
    trail.append(2)
    trail.append(principal=REFUSED, outcome="denied")
    trail.append(2)

    trail.delete_and_rehash(3)

    with trail.engine.connect() as conn:
        assert conn.execute(select(trail.tables.log.c.outcome)).scalars().all() == ["allowed"] * 4
    result = trail.verify_chain()
    assert (result.ok, result.checked, result.first_broken_seq) == (True, 4, None)


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        pytest.param(lambda trail: trail.delete_and_rehash(3), "the chain ends at seq 4", id="deleted"),
        pytest.param(
            lambda trail: trail.alter_and_rehash(3, outcome="allowed", actor_agency="south-yorkshire-police"),
            "no longer give the hash signed at seq 5",
            id="refusal-made-an-allowed-read",
        ),
    ],
)
def test_checkpoint_verification_catches_that_rewrite_at_the_first_record_after_the_last_good_checkpoint(
    trail: Trail, attack: Any, reason: str
) -> None:
    trail.append(2)
    assert trail.checkpoint().outcome == "written"  # seq 2, signed and kept outside the database
    trail.append(principal=REFUSED, outcome="denied")
    trail.append(2)
    assert trail.checkpoint().outcome == "written"  # seq 5

    attack(trail)

    assert trail.verify_chain().ok  # the rewrite is invisible to the chain alone
    result = trail.verify()
    assert not result.ok
    assert result.last_good is not None
    assert result.first_bad is not None
    assert (result.last_good.seq, result.first_broken_seq, result.first_bad.seq) == (2, 3, 5)
    assert result.reason is not None
    assert reason in result.reason
    assert result.rejected == ()


def test_a_rewrite_before_the_first_checkpoint_is_caught_from_seq_1(trail: Trail) -> None:
    trail.append(principal=REFUSED, outcome="denied")
    trail.append(3)
    trail.checkpoint()

    trail.delete_and_rehash(1)

    result = trail.verify()
    assert (result.ok, result.last_good, result.first_broken_seq) == (False, None, 1)


def test_a_record_removed_without_rehashing_is_named_exactly(trail: Trail) -> None:
    trail.append(5)
    trail.checkpoint()

    with trail.engine.begin() as conn:
        conn.execute(delete(trail.tables.log).where(trail.tables.log.c.seq == 4))

    result = trail.verify()
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert result.reason == "the chain itself is broken: a record is missing"


# --- the intact chain ----------------------------------------------------------------------


def test_an_intact_chain_matches_every_checkpoint_and_newer_records_are_not_yet_anchored_not_tampered(
    trail: Trail,
) -> None:
    trail.append(2)
    trail.checkpoint()
    trail.append(3)
    trail.checkpoint()
    trail.append(2)  # since the last checkpoint

    result = trail.verify()

    assert result.ok, result.reason
    assert result.last_good is not None
    assert (result.service, result.checked, result.checkpoints) == (SERVICE, 7, 2)
    assert (result.last_good.seq, result.unanchored) == (5, 2)
    assert (result.first_bad, result.first_broken_seq, result.reason) == (None, None, None)


def test_with_no_checkpoint_to_go_by_nothing_is_vouched_for(trail: Trail) -> None:
    trail.append(2)
    trail.file.path.touch()

    result = trail.verify()

    assert (result.ok, result.unanchored) == (False, 2)
    assert result.reason == "no checkpoint signed by this key to verify against"


# --- the checkpoint file -------------------------------------------------------------------


def test_a_checkpoint_line_is_the_checkpoint_and_its_signature(trail: Trail) -> None:
    trail.append(3)
    written = trail.checkpoint().checkpoint
    assert written is not None

    (line,) = trail.lines()
    stored = json.loads(line)
    with trail.sessions() as session:
        newest_hash = session.execute(
            select(trail.tables.log.c.hash).where(trail.tables.log.c.seq == 3)
        ).scalar()
    assert stored["checkpoint"] | {"taken_at": None} == {
        "service": SERVICE,
        "seq": 3,
        "hash": newest_hash,
        "taken_at": None,
        "key_id": trail.signer.key_id,
    }
    assert datetime.fromisoformat(stored["checkpoint"]["taken_at"]).tzinfo is not None
    assert len(stored["signature"]) == 88  # 64 bytes of Ed25519, base64


def test_an_altered_checkpoint_line_is_reported_and_not_trusted(trail: Trail) -> None:
    trail.append(2)
    trail.checkpoint()
    trail.append(principal=REFUSED, outcome="denied")
    trail.append()
    trail.checkpoint()
    # The attacker rewrites the chain and, to match, the newest line's hash.
    trail.delete_and_rehash(3)
    with trail.engine.connect() as conn:
        forged_head = conn.execute(select(trail.tables.head.c.last_hash)).scalar()
    first, second = trail.lines()
    altered = json.loads(second)
    altered["checkpoint"] |= {"seq": 3, "hash": forged_head}
    trail.file.path.write_text(first + "\n" + json.dumps(altered) + "\n")

    result = trail.verify()

    assert not result.ok
    (rejected,) = result.rejected
    assert rejected.where.endswith(":2")
    assert rejected.reason == "the signature does not verify: the line was altered or forged"
    assert result.last_good is not None
    assert (result.checkpoints, result.last_good.seq) == (1, 2)  # the altered line counts for nothing


def test_a_checkpoint_signed_by_another_key_is_reported(trail: Trail) -> None:
    trail.append(3)
    trail.checkpoint()
    # Someone who can write to the file but does not hold the key signs a head of their own,
    # under their key id and under ours.
    forger = CheckpointSigner(Ed25519PrivateKey.generate())
    with trail.engine.connect() as conn:
        last_hash = conn.execute(select(trail.tables.head.c.last_hash)).scalar()
    assert last_hash is not None
    forged = forger.checkpoint(SERVICE, 3, last_hash, datetime.now(UTC))
    trail.file.append(forged)
    passed_off = json.loads(forged.line())
    passed_off["checkpoint"]["key_id"] = trail.signer.key_id
    with trail.file.path.open("a") as file:
        file.write(json.dumps(passed_off) + "\n")
        file.write("not a checkpoint at all\n")

    result = trail.verify()

    assert not result.ok
    assert [(line.where.rsplit(":", 1)[1], line.reason) for line in result.rejected] == [
        ("2", f"signed by another key (key id '{forger.key_id}', not {trail.signer.key_id})"),
        ("3", "the signature does not verify: the line was altered or forged"),
        ("4", "not a checkpoint line"),
    ]
    assert result.checkpoints == 1


def test_after_a_key_rotation_the_old_and_new_public_keys_verify_together(trail: Trail) -> None:
    trail.append(2)
    trail.checkpoint()
    old_key = trail.signer.public_key
    trail.signer = CheckpointSigner(Ed25519PrivateKey.generate())
    trail.append(2)
    assert trail.checkpoint().outcome == "written"  # a new key starts afresh from seq 1

    assert not trail.verify().ok  # the new key alone does not vouch for the old lines
    both = trail.verify([old_key, trail.signer.public_key])
    assert (both.ok, both.checkpoints) == (True, 2)


def test_checkpoints_of_several_services_in_one_file_are_told_apart(trail: Trail) -> None:
    trail.append(2)
    trail.checkpoint()
    trail.file.append(trail.signer.checkpoint("risk-api", 40, "a" * 64, datetime.now(UTC)))

    assert trail.verify(service=SERVICE).ok
    with pytest.raises(ValueError, match="several services"):
        trail.verify()


def test_workers_appending_to_one_file_at_once_never_interleave_their_lines(trail: Trail) -> None:
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        start.wait()
        for seq in range(1, 51):
            trail.file.append(trail.signer.checkpoint(f"worker-{n}", seq, "b" * 64, datetime.now(UTC)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = trail.lines()
    assert len(lines) == 200
    assert all(json.loads(line)["signature"] for line in lines)


def test_a_line_cut_short_does_not_swallow_the_next_checkpoint(trail: Trail) -> None:
    trail.append(2)
    trail.file.path.write_text('{"checkpoint": {"seq": 1')  # a crash mid-write, no newline

    trail.checkpoint()

    result = trail.verify()
    assert [line.reason for line in result.rejected] == ["not a checkpoint line"]
    assert result.last_good is not None
    assert result.last_good.seq == 2


# --- the loop that takes them --------------------------------------------------------------


def test_a_checkpoint_is_taken_when_the_head_moved_and_not_when_it_did_not(trail: Trail) -> None:
    assert trail.checkpoint().outcome == "empty"  # no record yet, nothing to anchor
    trail.append(2)

    assert trail.checkpoint().outcome == "written"
    assert trail.checkpoint().outcome == "unchanged"
    trail.append()
    taken = trail.checkpoint()

    assert taken.outcome == "written"
    assert taken.checkpoint is not None
    assert taken.checkpoint.seq == 3
    assert [json.loads(line)["checkpoint"]["seq"] for line in trail.lines()] == [2, 3]


def test_only_committed_records_are_checkpointed(trail: Trail) -> None:
    trail.append(2)
    with trail.sessions() as uncommitted:
        seq = append_audit(
            uncommitted,
            trail.tables,
            principal=OFFICER,
            action="read",
            resource_type="child",
            resource_id=str(CHILD),
        )
        taken = trail.checkpoint()  # while the append holds the head, uncommitted
        uncommitted.rollback()

    assert seq == 3
    assert taken.checkpoint is not None
    assert taken.checkpoint.seq == 2
    assert trail.verify().ok


@pytest.mark.parametrize(
    ("appended_after", "reason"),
    [
        (0, "the chain head (seq 4) no longer matches the last checkpoint (seq 5"),
        (
            2,
            "the chain since the last checkpoint (seq 5) is broken at seq 6: the link to the previous record",
        ),
    ],
)
def test_the_loop_refuses_to_sign_a_chain_rewritten_under_its_last_checkpoint(
    trail: Trail, appended_after: int, reason: str
) -> None:
    trail.append(2)
    trail.append(principal=REFUSED, outcome="denied")
    trail.append(2)
    trail.checkpoint()
    trail.delete_and_rehash(3)  # then hoping the next checkpoint anchors the rewrite
    trail.append(appended_after)

    taken = trail.checkpoint()

    assert taken.outcome == "refused"
    assert reason in (taken.reason or "")
    assert len(trail.lines()) == 1  # nothing signed
    assert not trail.verify().ok


def test_records_newer_than_the_last_checkpoint_are_not_yet_protected(trail: Trail) -> None:
    # The window a checkpoint interval leaves: what is not anchored yet can still go unseen.
    trail.append(2)
    trail.checkpoint()
    trail.append(principal=REFUSED, outcome="denied")
    trail.append()

    trail.delete_and_rehash(3)

    result = trail.verify()
    assert (result.ok, result.unanchored) == (True, 1)
    assert trail.checkpoint().outcome == "written"  # it extends the last checkpoint


def test_the_background_loop_writes_a_checkpoint_when_the_head_moved_and_none_when_it_did_not(
    trail: Trail,
) -> None:
    trail.append(2)
    with checkpoint_thread(trail.sessions, trail.tables, trail.signer, trail.file, SERVICE, every=0.05):
        wait_for(lambda: len(trail.lines()) == 1)
        time.sleep(0.3)  # six turns with the head where it was
        assert len(trail.lines()) == 1
        trail.append()
        wait_for(lambda: len(trail.lines()) == 2)
        time.sleep(0.3)
        assert len(trail.lines()) == 2
    assert [json.loads(line)["checkpoint"]["seq"] for line in trail.lines()] == [2, 3]
    assert trail.verify().ok


def test_a_service_takes_checkpoints_in_the_background_when_configured(trail: Trail, tmp_path: Path) -> None:
    settings = DatabaseSettings(
        data_dir=tmp_path,
        database_url=trail.url,
        events_relay_enabled=False,
        audit_checkpoint_key_file=write_private_key(
            tmp_path / "checkpoint-key.pem", trail.signer.private_key
        ),
        audit_checkpoint_file=trail.file.path,
        audit_checkpoint_interval_seconds=0.05,
        service_name=SERVICE,
    )
    app = create_service_app(settings, title="t", version="1", description="", routers=[], audit=trail.tables)
    with TestClient(app):
        trail.append(3)
        wait_for(lambda: len(trail.lines()) == 1)
    stored = json.loads(trail.lines()[-1])["checkpoint"]
    assert (stored["service"], stored["seq"]) == (SERVICE, 3)


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- settings ------------------------------------------------------------------------------


def test_checkpoints_are_off_unless_a_key_and_a_file_are_given(tmp_path: Path) -> None:
    assert not DatabaseSettings(data_dir=tmp_path).audit_checkpoints_enabled
    key = write_private_key(tmp_path / "key.pem", Ed25519PrivateKey.generate())
    with pytest.raises(
        ValidationError, match="AUDIT_CHECKPOINT_KEY_FILE and AUDIT_CHECKPOINT_FILE go together"
    ):
        DatabaseSettings(data_dir=tmp_path, audit_checkpoint_key_file=key)
    settings = DatabaseSettings(
        data_dir=tmp_path, audit_checkpoint_key_file=key, audit_checkpoint_file=tmp_path / "c.jsonl"
    )
    assert settings.audit_checkpoints_enabled
    off = settings.model_copy(update={"audit_checkpoint_interval_seconds": 0})
    assert not off.audit_checkpoints_enabled


def test_a_key_that_is_not_ed25519_or_a_missing_directory_is_refused_at_start(tmp_path: Path) -> None:
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ValidationError, match="not an Ed25519 private key"):
        DatabaseSettings(
            data_dir=tmp_path, audit_checkpoint_key_file=rsa_key, audit_checkpoint_file=tmp_path / "c.jsonl"
        )
    key = write_private_key(tmp_path / "key.pem", Ed25519PrivateKey.generate())
    with pytest.raises(ValidationError, match="is not a directory"):
        DatabaseSettings(
            data_dir=tmp_path,
            audit_checkpoint_key_file=key,
            audit_checkpoint_file=tmp_path / "nowhere" / "c.jsonl",
        )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the README's key pair")
def test_the_readmes_openssl_key_pair_signs_and_verifies(trail: Trail, tmp_path: Path) -> None:
    private, public = tmp_path / "audit-checkpoints.pem", tmp_path / "audit-checkpoints.pub.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(private)], check=True)
    subprocess.run(["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True)
    trail.signer = CheckpointSigner.from_pem_file(private)
    trail.append(2)
    trail.checkpoint()

    assert (
        verify.main(
            ["--database-url", trail.url, "--checkpoints", str(trail.file.path), "--public-key", str(public)],
            io.StringIO(),
        )
        == 0
    )


# --- the data protection officer's command -------------------------------------------------


def dpo_check(trail: Trail, tmp_path: Path) -> tuple[int, str]:
    """The command, given only the database, the checkpoint file and the public key."""
    public = write_public_key(tmp_path / "audit-checkpoints.pub.pem", trail.signer.private_key)
    out = io.StringIO()
    code = verify.main(
        ["--database-url", trail.url, "--checkpoints", str(trail.file.path), "--public-key", str(public)], out
    )
    return code, out.getvalue()


def test_the_dpos_command_passes_an_intact_chain_and_says_what_is_not_yet_anchored(
    trail: Trail, tmp_path: Path
) -> None:
    trail.append(3)
    trail.checkpoint()
    trail.append()

    code, output = dpo_check(trail, tmp_path)

    assert code == 0, output
    assert output.startswith(f"{SERVICE} audit chain matches its signed checkpoints.")
    assert "last good checkpoint: seq 3" in output
    assert "1 record(s) after the last checkpoint are not yet anchored" in output


def test_the_dpos_command_fails_on_the_rewrite_and_names_where_it_starts(
    trail: Trail, tmp_path: Path
) -> None:
    trail.append(2)
    trail.checkpoint()
    trail.append(principal=REFUSED, outcome="denied")
    trail.append(2)
    trail.checkpoint()
    trail.delete_and_rehash(3)

    code, output = dpo_check(trail, tmp_path)

    assert code == 1
    assert f"{SERVICE} audit chain DOES NOT match its signed checkpoints." in output
    assert "last good checkpoint: seq 2" in output
    assert "first record that no longer matches: seq 3" in output


def test_the_dpos_command_cannot_check_without_a_checkpoint_file(trail: Trail, tmp_path: Path) -> None:
    trail.append()
    code, _ = dpo_check(trail, tmp_path)  # no checkpoint taken: no file
    assert code == 2
