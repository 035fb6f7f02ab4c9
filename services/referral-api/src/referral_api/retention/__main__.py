"""``python -m referral_api.retention --dry-run`` (or ``--dispose``): the disposal run from
the command line, for the data protection officer and the deployment's scheduler; prints
the run as JSON (what would go, or what went, and what holds keep). Actor ``system:retention``."""

from __future__ import annotations

import argparse
import sys

from referral_api.children.service import partner_may_see
from referral_api.chronology import projection as chronology
from referral_api.database import EVENTS
from referral_api.retention.disposal import RETENTION_JOB, disposal_run_body, run_disposal
from referral_api.settings import ReferralSettings
from safeguarding_kit.db import Database, utc_now
from safeguarding_kit.events import Outbox
from safeguarding_kit.retention.schedule import load_schedule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m referral_api.retention", description=__doc__)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--dry-run", action="store_true", help="list what is due; dispose of nothing")
    what.add_argument("--dispose", action="store_true", help="dispose of what is due and not held")
    args = parser.parse_args(argv)

    settings = ReferralSettings()
    database = Database(settings.resolved_database_url())
    outbox = Outbox(
        EVENTS,
        list(settings.event_subscribers),
        settings.service_name,
        partner_may_see,
        settings.agreement,
        chronology.OWN_EVENTS,
    )
    try:
        with database.sessions() as session:
            run = run_disposal(
                session,
                RETENTION_JOB,
                load_schedule(settings.retention_schedule_file),
                utc_now(),
                dry_run=args.dry_run,
                outbox=outbox,
            )
        sys.stdout.write(disposal_run_body(run).model_dump_json(indent=2) + "\n")
    finally:
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
