"""Referral figures over 1,000,000 referrals on PostgreSQL: the breakdowns by quarter,
financial quarter and month against age band and source, timed over five runs each, with
disclosure control on (suppression and the cell key method's perturbation) as for every
caller without exact figures.

Uses the server BENCH_DATABASE_URL names (default: the local PostgreSQL), in a
database of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from referral_api.database import MIGRATIONS_DIR, VERSION_TABLE
from referral_api.stats.dimensions import GroupBy
from referral_api.stats.service import referral_figures
from safeguarding_kit.db import Database
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.periods import Window, parse_period
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

REFERRALS = 1_000_000
RUNS = 5
# The financial year 2025-26 the referrals are seeded over, asked for as a closed period.
YEAR = parse_period("2025-26")
WINDOW = Window(YEAR.start, YEAR.end, YEAR.label, YEAR.end)
TABLES = (
    (GroupBy.quarter, GroupBy.age_band),
    (GroupBy.quarter, GroupBy.source_agency_type),
    (GroupBy.financial_quarter, GroupBy.age_band),
    (GroupBy.month, GroupBy.source_agency_type),
)

SEED_SQL = [
    """
    INSERT INTO children (id, given_name, family_name, name_key, date_of_birth, gender, ethnicity, looked_after,
                          sen_or_disability, row_version, created_by_agency, created_at, updated_at)
    SELECT md5(g::text)::uuid, 'Bench', 'Child', 'child|bench', date '2010-01-01' + (g % 3000), 'female',
           'not_stated', g % 7 = 0, false, 1, 'bench', now(), now()
    FROM generate_series(1, :n) AS g
    """,
    """
    INSERT INTO referrals (id, child_id, agency, agency_type, submitted_by, request_hash, referrer_name,
                           referrer_role, summary, lawful_basis, urgency, status, received_at, received_quarter,
                           received_month, received_financial_quarter, age_band_at_referral, decision_due_at,
                           stats_key, row_version)
    SELECT md5('r' || g)::uuid, md5(g::text)::uuid, 'bench-agency',
           (ARRAY['education','police','social_care','health','voluntary'])[1 + g % 5], 'bench', 'x', 'R', 'R',
           'seeded', 'consent', 'routine', 'received', at,
           to_char(at AT TIME ZONE 'UTC', 'YYYY') || '-Q' || to_char(at AT TIME ZONE 'UTC', 'Q'),
           to_char(at AT TIME ZONE 'UTC', 'YYYY-MM'),
           -- The financial quarter: the calendar quarter three months back, in the year it starts.
           to_char(at AT TIME ZONE 'UTC' - interval '3 months', 'YYYY') || '-'
             || to_char(at AT TIME ZONE 'UTC' - interval '3 months' + interval '1 year', 'YY')
             || '-Q' || to_char(at AT TIME ZONE 'UTC' - interval '3 months', 'Q'),
           (ARRAY['10-13','14-16','14-16','17-19','20-21','other'])[1 + g % 6], at + interval '1 day',
           floor(random() * 256)::smallint, 1
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
        for dims in TABLES:
            times = []
            for _ in range(RUNS):
                with database.sessions() as session:
                    started = time.perf_counter()
                    figures = referral_figures(session, list(dims), WINDOW, exact=False, threshold=5)
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
