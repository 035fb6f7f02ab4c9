from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from meetings_fake_services import REFERRAL_URL, RISK_URL, FakeServices

from meetings_api.app import create_app
from meetings_api.database import MIGRATIONS_DIR, VERSION_TABLE
from meetings_api.models import Base
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.testing import ServiceSpec


@pytest.fixture(scope="session")
def service_spec() -> ServiceSpec:
    return ServiceSpec(
        name="meetings-api",
        settings_class=MeetingsSettings,
        create_app=create_app,
        metadata=Base.metadata,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        # No sweeps or disposals in the background of a process that lives for the whole run; the
        # agenda's clients address the fakes of tests/meetings_fake_services.py.
        test_settings={
            "overdue_sweep_seconds": 0,
            "disposal_interval_seconds": 0,
            "risk_api_url": RISK_URL,
            "referral_api_url": REFERRAL_URL,
        },
    )


@pytest.fixture
def agenda_client(app: FastAPI, client: TestClient) -> Iterator[tuple[TestClient, FakeServices]]:
    """The meetings service with the referral and risk services faked at their HTTP
    boundary (answering from records the test states, through the agenda's real clients),
    so its tests import no other service; tests/e2e builds agendas from the real ones."""
    services = FakeServices()
    running = app.state.services_client
    with services.client() as services_client:
        app.state.services_client = services_client
        try:
            yield client, services
        finally:
            app.state.services_client = running
