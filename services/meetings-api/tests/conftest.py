from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from meetings_fake_services import REFERRAL_URL, RISK_URL, FakeServices

from meetings_api.app import create_app
from meetings_api.database import MIGRATIONS_DIR, VERSION_TABLE
from meetings_api.models import Base
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.testing import ServiceSpec, empty_tables


@pytest.fixture(scope="session")
def service_spec() -> ServiceSpec:
    return ServiceSpec(
        name="meetings-api",
        settings_class=MeetingsSettings,
        create_app=create_app,
        metadata=Base.metadata,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
    )


@pytest.fixture
def agenda_client(data_dir, database_url) -> Iterator[tuple[TestClient, FakeServices]]:
    """The meetings service with the referral and risk services faked at their HTTP
    boundary (answering from records the test states, through the agenda's real clients),
    so its tests import no other service; tests/e2e builds agendas from the real ones."""
    services = FakeServices()
    meetings_app = create_app(
        MeetingsSettings(
            database_url=database_url,
            risk_api_url=RISK_URL,
            referral_api_url=REFERRAL_URL,
            data_dir=data_dir,
            environment="test",
            log_json=False,
            events_relay_enabled=False,
        )
    )
    with services.client() as services_client:
        meetings_app.state.services_client = services_client
        with TestClient(meetings_app) as meetings:
            yield meetings, services
    empty_tables(database_url, Base.metadata)
