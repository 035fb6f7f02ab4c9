"""A service's outbox relay run as a process of its own (``python -m <service> relay``): it
delivers what the service's requests wrote, says whether its loop is alive, and is refused
where it cannot share the outbox safely (SQLite, served by one process that relays itself)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_events_concurrent_relays import SECRET, SlowReceiver, on_postgresql_only, outbox_url, receiver

from safeguarding_kit.background import Pulse, repeating
from safeguarding_kit.cli import service_main
from safeguarding_kit.db import Database, service_metadata
from safeguarding_kit.events import DELIVERED, EventTables, Subscriber, emit, event_tables
from safeguarding_kit.health import health_router
from safeguarding_kit.relay_app import STUCK_AFTER_SECONDS, create_relay_app
from safeguarding_kit.settings import DatabaseSettings
from safeguarding_kit.testing import eventually

__all__ = ["outbox_url", "receiver"]  # fixtures, used by name


def settings_for(url: str, tmp_path: Path, receiver: SlowReceiver) -> DatabaseSettings:
    return DatabaseSettings(
        data_dir=tmp_path,
        database_url=url,
        environment="test",
        log_json=False,
        events_signing_secret=SECRET,
        event_subscribers=[Subscriber(name="risk-api", url=receiver.url, types=["referral.received"])],
    )


def announce_referrals(url: str, tables: EventTables, subscriber: Subscriber, children: int) -> None:
    """What the serve process's requests leave behind: events in the outbox, not yet sent."""
    database = Database(url)
    try:
        with database.sessions() as session:
            for n in range(children):
                emit(
                    session,
                    tables,
                    [subscriber],
                    source="referral-api",
                    type="referral.received",
                    subject=f"child-{n}",
                    data={"n": n},
                )
            session.commit()
    finally:
        database.dispose()


def delivered_count(url: str, tables: EventTables) -> int:
    d = tables.deliveries
    database = Database(url)
    try:
        with database.sessions() as session:
            return int(session.scalar(select(func.count()).where(d.c.status == DELIVERED)) or 0)
    finally:
        database.dispose()


@on_postgresql_only
def test_a_relay_process_delivers_what_the_service_wrote_and_reports_it(
    outbox_url: tuple[str, EventTables], receiver: SlowReceiver, tmp_path: Path
) -> None:
    url, tables = outbox_url
    settings = settings_for(url, tmp_path, receiver)
    announce_referrals(url, tables, settings.event_subscribers[0], children=12)

    with TestClient(create_relay_app(settings, tables)) as relay:
        eventually(lambda: len(receiver.arrived) == 12, "the relay process delivered the twelve events")
        assert relay.get("/healthz").json() == {"status": "ok"}
        assert relay.get("/readyz").json()["checks"] == {"database": "ok"}
        # Its gauge of the outbox, for the dashboards (a serve process with its relay off sets none).
        assert (
            f'outbox_deliveries{{service="{settings.service_name}",status="pending"}}'
            in relay.get("/metrics").text
        )
        # Nothing but the operational endpoints: no API, no spec, no docs.
        for path in ("/openapi.json", "/docs", "/api/v1/referrals", "/internal/events"):
            answer = relay.get(path)
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/problem+json"

    assert sorted(e["data"]["n"] for e in receiver.arrived) == list(range(12))
    assert receiver.bad_signatures == 0
    assert delivered_count(url, tables) == 12


def test_a_relay_loop_that_has_not_finished_a_cycle_for_too_long_is_not_alive() -> None:
    pulse = Pulse()
    app = FastAPI()
    app.include_router(
        health_router({}, liveness={"outbox relay": lambda: pulse.beaten_within(STUCK_AFTER_SECONDS)})
    )
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200

    pulse.last = time.monotonic() - STUCK_AFTER_SECONDS - 1  # its last cycle ended over five minutes ago
    stuck = client.get("/healthz")
    assert stuck.status_code == 503
    assert stuck.headers["content-type"] == "application/problem+json"
    assert stuck.json()["detail"] == "Stuck: outbox relay."


def test_every_cycle_of_a_repeating_loop_beats_its_pulse_even_a_failed_one() -> None:
    cycles: list[int] = []

    def failing_cycle() -> None:
        cycles.append(1)
        raise RuntimeError("the database is down")

    with repeating("test-loop", failing_cycle, 0.01, at_start=True) as pulse:
        pulse.last = 0.0
        eventually(lambda: len(cycles) >= 3 and pulse.beaten_within(1.0), "failed cycles beat the pulse")


@pytest.fixture
def on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'service.db'}")


def test_a_relay_of_its_own_is_refused_on_sqlite_with_what_to_do_instead(on_sqlite: None) -> None:
    with pytest.raises(SystemExit) as refused:
        service_main(
            load_settings=DatabaseSettings,
            create_app=lambda settings: FastAPI(),
            migrations_dir=Path("unused"),
            version_table="unused",
            events=event_tables(service_metadata()),
            argv=["relay"],
        )
    message = str(refused.value)
    assert "needs PostgreSQL" in message
    assert "EVENTS_RELAY_ENABLED=true" in message


def test_a_service_without_an_outbox_has_no_relay_to_run(on_sqlite: None) -> None:
    with pytest.raises(SystemExit, match="no outbox to relay"):
        service_main(
            load_settings=DatabaseSettings,
            create_app=lambda settings: FastAPI(),
            migrations_dir=Path("unused"),
            version_table="unused",
            argv=["relay"],
        )
