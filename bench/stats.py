"""Referral figures over 1,000,000 referrals on PostgreSQL: the quarterly breakdown by
age band and by source, timed over five runs each (disclosure control included).

Uses the server BENCH_DATABASE_URL names (default: the local PostgreSQL), in a
database of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from referral_api.database import MIGRATIONS_DIR, VERSION_TABLE
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.service import referral_figures
from safeguarding_kit.db import Database
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

REFERRALS = 1_000_000
RUNS = 5
YEAR = (datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))

SEED_SQL = [
    """
    INSERT INTO children (id, given_name, family_name, name_key, date_of_birth, gender, ethnicity, looked_after,
                          sen_or_disability, version, created_by_agency, created_at, updated_at)
    SELECT md5(g::text)::uuid, 'Bench', 'Child', 'child|bench', date '2010-01-01' + (g % 3000), 'female',
           'not_stated', g % 7 = 0, false, 1, 'bench', now(), now()
    FROM generate_series(1, :n) AS g
    """,
    """
    INSERT INTO referrals (id, child_id, agency, agency_type, submitted_by, request_hash, referrer_name,
                           referrer_role, summary, lawful_basis, urgency, status, received_at, received_quarter,
                           received_month, age_band_at_referral, decision_due_at, version)
    SELECT md5('r' || g)::uuid, md5(g::text)::uuid, 'bench-agency',
           (ARRAY['education','police','social_care','health','voluntary'])[1 + g % 5], 'bench', 'x', 'R', 'R',
           'seeded', 'consent', 'routine', 'received', at,
           to_char(at AT TIME ZONE 'UTC', 'YYYY') || '-Q' || to_char(at AT TIME ZONE 'UTC', 'Q'),
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'),
           (ARRAY['10-13','14-16','14-16','17-19','20-21','other'])[1 + g % 6], at + interval '1 day', 1
    FROM (SELECT g, timestamptz '2025-04-01' + (g % 525600) * interval '1 minute' AS at
          FROM generate_series(1, :n) AS g) AS s
    """,
]


def main() -> int:
    os.environ[TEST_DATABASE_URL_ENV] = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    with tempfile.TemporaryDirectory() as workdir, provisioned_database("bench-stats", Path(workdir)) as url:
        upgrade_to_head(MIGRATIONS_DIR, url, VERSION_TABLE)
        database = Database(url)
        with database.sessions() as session:
            started = time.perf_counter()
            for statement in SEED_SQL:
                session.execute(text(statement), {"n": REFERRALS})
            session.commit()
            seeded = time.perf_counter() - started
        # As autovacuum would have done by now: statistics, and the visibility map that lets
        # the figures come from the covering index alone.
        with database.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE referrals"))
        print(f"referral figures on PostgreSQL: {REFERRALS:,} referrals (seeded in {seeded:.1f} s)")
        for dims in ((GroupBy.quarter, GroupBy.age_band), (GroupBy.quarter, GroupBy.source_agency_type)):
            times = []
            for _ in range(RUNS):
                with database.sessions() as session:
                    started = time.perf_counter()
                    figures = referral_figures(session, list(dims), *YEAR, exact=False, threshold=5)
                    times.append(time.perf_counter() - started)
            print(
                f"  by {' x '.join(d.value for d in dims)}: {len(figures.cells)} cells, "
                f"median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms "
                f"(aim: under 300 ms)"
            )
        database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
