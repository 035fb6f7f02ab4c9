"""Re-scoring every child's current assessment under a new model version, on
PostgreSQL: 100,000 children, about seven answers each, timed over five runs.

Prints the seeding time and the impact analysis's median and worst time. Uses the
server BENCH_DATABASE_URL names (default: the local PostgreSQL), in a database of
its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from risk_api.database import MIGRATIONS_DIR, VERSION_TABLE
from risk_api.impact.service import impact_of
from risk_api.reference_data import install_reference_data
from risk_api.risk_models import service as models_service
from risk_api.risk_models.default_model import DEFAULT_MODEL_NAME
from risk_api.risk_models.models import RiskModel
from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.db import Database
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

CHILDREN = 100_000
RUNS = 5
# A governing analyst, as the partnership agreement would grant: exact counts, each run audited.
ANALYST = Principal(
    sub="bench",
    agency="bench-council",
    agency_type=AgencyType.social_care,
    roles=frozenset({Role.admin, Role.analyst}),
    capacities=frozenset({Capacity.governs_risk_models, Capacity.exact_figures}),
)

SEED_SQL = """
INSERT INTO assessments (id, child_id, model_id, assessed_by, assessed_agency, assessed_at, age_at_assessment,
                         score, age_points, computed_level, final_level, hard_triggers, row_version)
SELECT gen_random_uuid(), gen_random_uuid(), :model_id, 'bench', 'bench-agency', now(), 10 + (g % 8),
       0, 0, lvl, lvl, '[]', 1
FROM (SELECT g, (ARRAY['low','medium','high'])[1 + g % 3] AS lvl FROM generate_series(1, :n) AS g) s;

INSERT INTO assessment_answers (assessment_id, indicator_code, answer, contribution)
SELECT a.id, i.code, (ARRAY['present','absent','not_known'])[1 + floor(random() * 3)::int], 0
FROM assessments a JOIN risk_indicators i ON i.model_id = :model_id
WHERE random() < 0.25;

INSERT INTO child_risk (child_id, current_level, assessment_id, assessments_count, updated_at, stats_key,
                        row_version)
SELECT child_id, final_level, id, 1, now(), floor(random() * 256)::smallint, 1 FROM assessments;
"""


def main() -> int:
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    os.environ[TEST_DATABASE_URL_ENV] = server
    with tempfile.TemporaryDirectory() as workdir, provisioned_database("bench-risk", Path(workdir)) as url:
        upgrade_to_head(MIGRATIONS_DIR, url, VERSION_TABLE)
        install_reference_data(url)
        database = Database(url)
        with database.sessions() as session:
            default = session.query(RiskModel).filter_by(name=DEFAULT_MODEL_NAME).one()
            started = time.perf_counter()
            for statement in SEED_SQL.split(";\n"):
                if statement.strip():
                    session.execute(text(statement), {"model_id": default.id, "n": CHILDREN})
            session.commit()
            session.execute(text("ANALYZE"))
            seeded = time.perf_counter() - started
            answers = session.execute(text("SELECT count(*) FROM assessment_answers")).scalar_one()
            draft = models_service.new_version(session, ANALYST, default.id)
            draft_id: uuid.UUID = draft.id
            session.commit()  # new_version leaves committing to its caller (the routes' idempotent create)
        times = []
        for _ in range(RUNS):
            with database.sessions() as session:
                started = time.perf_counter()
                report = impact_of(session, ANALYST, draft_id, exact=True, threshold=5)
                times.append(time.perf_counter() - started)
        database.dispose()
    print(f"risk re-scoring on PostgreSQL: {CHILDREN:,} children, {answers:,} answers")
    print(f"  seeded in {seeded:.1f} s")
    print(
        f"  impact analysis over {report.children_assessed.count:,} children, {RUNS} runs: "
        f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s (aim: under 10 s)"
    )
    print(
        "  movements: "
        + ", ".join(
            f"{c.key['from_level']}->{c.key['to_level']} {c.count}" for c in report.movements.cells if c.count
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
