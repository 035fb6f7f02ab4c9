"""The migration to the end-of-next-working-day decision clock recomputes every stored
referral's due time from its receipt, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from referral_api import database as referral_db
from referral_api.children.models import Child
from referral_api.referrals.models import Referral
from safeguarding_kit.db import create_db_engine
from safeguarding_kit.migrations import alembic_config
from safeguarding_kit.throwaway_database import provisioned_database

LONDON = ZoneInfo("Europe/London")
BEFORE = "3f6a2d9c8b17"  # the last revision with the same-time-next-working-day clock
SUNDAY_0422 = datetime(2026, 11, 22, 4, 22, tzinfo=LONDON)
OLD_DUE = datetime(2026, 11, 23, 4, 22, tzinfo=LONDON)  # Monday 04:22, before any office opens
NEW_DUE = datetime(2026, 11, 24, 0, 0, tzinfo=LONDON)  # the end of Monday


def stored_due(url: str) -> tuple[datetime, int]:
    engine = create_db_engine(url)
    with Session(engine) as session:
        due, version = session.execute(select(Referral.decision_due_at, Referral.row_version)).one()
    engine.dispose()
    return due, version


def test_stored_decision_due_times_move_to_the_end_of_the_next_working_day(tmp_path: Path) -> None:
    with provisioned_database("decision-due", tmp_path) as url:
        config = alembic_config(referral_db.MIGRATIONS_DIR, url, referral_db.VERSION_TABLE)
        command.upgrade(config, BEFORE)
        engine = create_db_engine(url)
        with Session(engine) as session:
            child = Child(
                given_name="Test",
                family_name="Child",
                name_key="child|test",
                date_of_birth=date(2011, 5, 1),
                gender="female",
                ethnicity="not_stated",
                created_by_agency="seed",
            )
            session.add(child)
            session.flush()
            session.add(
                Referral(
                    child_id=child.id,
                    agency="seed",
                    agency_type="education",
                    submitted_by="seed",
                    request_hash="x",
                    referrer_name="R",
                    referrer_role="R",
                    summary="seeded",
                    lawful_basis="consent",
                    urgency="routine",
                    status="received",
                    received_at=SUNDAY_0422.astimezone(UTC),
                    received_quarter="2026-Q4",
                    received_month="2026-11",
                    received_financial_quarter="2026-27-Q3",
                    age_band_at_referral="15-17",
                    decision_due_at=OLD_DUE.astimezone(UTC),
                )
            )
            session.commit()
        engine.dispose()

        command.upgrade(config, "head")
        assert stored_due(url) == (NEW_DUE, 2)  # a new due time, so a new ETag

        command.downgrade(config, BEFORE)
        assert stored_due(url) == (OLD_DUE, 3)
