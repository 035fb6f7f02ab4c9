"""Check a service's audit chain against its signed checkpoints, with the public key alone:
the data protection officer's command (README, "Audit checkpoints").

    python -m safeguarding_kit.audit.verify --checkpoints referral-checkpoints.jsonl \\
        --public-key audit-checkpoints.pub.pem [--database-url URL] [--service referral-api]

The database URL (``--database-url``, or ``DATABASE_URL`` so it stays out of the shell's
history) needs only SELECT on ``audit_log``: a read-only role, or a restored copy. Prints what
it found; exits 0 when the chain matches every checkpoint, 1 when it does not (or a checkpoint
line is not one the key signed, or there is none), 2 when it could not check.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from safeguarding_kit.audit.checkpoints import (
    CheckpointFile,
    CheckpointVerification,
    StoredCheckpoint,
    key_id,
    load_public_key,
    verify_against_checkpoints,
)
from safeguarding_kit.audit.models import audit_tables
from safeguarding_kit.db import normalise_url

FAILED, UNABLE = 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m safeguarding_kit.audit.verify",
        description="Check a service's audit chain against its signed checkpoints, with the public key only.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the service's database (SELECT on audit_log is enough); default: $DATABASE_URL",
    )
    parser.add_argument(
        "--checkpoints",
        type=Path,
        action="append",
        required=True,
        help="a checkpoint file (JSON lines); repeat for several (one per replica)",
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        action="append",
        required=True,
        help="the checkpoint signing key's public half (PEM); repeat for earlier keys after a rotation",
    )
    parser.add_argument("--service", help="whose checkpoints, when a file holds several services'")
    return parser


def _read_only_engine(url: str) -> Engine:
    """An engine that changes nothing: no file created, no pragma set (the kit's own engine
    would create a missing SQLite file and switch it to WAL)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not Path(database).is_file():
            raise ValueError(f"{database or url}: no such SQLite database")
        # Opened read-only: a copy of the database is checked as it is.
        return create_engine(f"sqlite:///file:{Path(database).resolve()}?mode=ro&uri=true")
    return create_engine(parsed, hide_parameters=True, pool_size=1)


def _entries(files: Sequence[Path]) -> Iterator[StoredCheckpoint]:
    for file in files:
        yield from CheckpointFile(file).entries()


def report(result: CheckpointVerification, keys: Sequence[str], out: TextIO) -> None:
    """The result as a data protection officer reads it."""
    service = result.service or "the"
    verdict = "matches its signed checkpoints" if result.ok else "DOES NOT match its signed checkpoints"
    print(f"{service} audit chain {verdict}.", file=out)
    print(f"  records checked: {result.checked}", file=out)
    print(f"  checkpoints signed by key {', '.join(keys)}: {result.checkpoints}", file=out)
    if result.last_good is not None:
        good = result.last_good
        print(f"  last good checkpoint: seq {good.seq}, taken {good.taken_at.isoformat()}", file=out)
    if result.first_bad is not None:
        bad = result.first_bad
        print(
            f"  first checkpoint no longer matched: seq {bad.seq}, taken {bad.taken_at.isoformat()}", file=out
        )
    if result.first_broken_seq is not None:
        print(f"  first record that no longer matches: seq {result.first_broken_seq}", file=out)
    if result.reason is not None:
        print(f"  why: {result.reason}", file=out)
    for line in result.rejected:
        print(f"  rejected {line.where}: {line.reason}", file=out)
    if result.ok and result.unanchored:
        print(
            f"  {result.unanchored} record(s) after the last checkpoint are not yet anchored "
            "(checked as a chain only; the next checkpoint will cover them)",
            file=out,
        )


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    if not args.database_url:
        print("give --database-url or set DATABASE_URL", file=sys.stderr)
        return UNABLE
    try:
        keys = [load_public_key(path) for path in args.public_key]
        for file in args.checkpoints:
            if not file.is_file():
                raise ValueError(f"{file}: no such checkpoint file")
        engine = _read_only_engine(args.database_url)
        try:
            with Session(engine) as session:
                result = verify_against_checkpoints(
                    session,
                    audit_tables(MetaData()),
                    _entries(args.checkpoints),
                    keys,
                    service=args.service,
                )
        finally:
            engine.dispose()
    except (ValueError, OSError, SQLAlchemyError) as exc:
        print(f"could not verify: {exc}", file=sys.stderr)
        return UNABLE
    report(result, [key_id(key) for key in keys], out)
    return 0 if result.ok else FAILED


if __name__ == "__main__":
    raise SystemExit(main())
