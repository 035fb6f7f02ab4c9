import pytest

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
    )
