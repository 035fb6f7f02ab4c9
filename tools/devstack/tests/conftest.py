"""The dev stack's tools against the services they drive: `make import`'s tracker loader
posts to the referral service (here its test client, on its own migrated database). A tool
may import any package; a service's own tests may not import a tool."""

import pytest

from referral_api.app import create_app
from referral_api.database import MIGRATIONS_DIR, VERSION_TABLE
from referral_api.models import Base
from referral_api.settings import ReferralSettings
from safeguarding_kit.testing import ServiceSpec


@pytest.fixture(scope="session")
def service_spec() -> ServiceSpec:
    return ServiceSpec(
        name="referral-api",
        settings_class=ReferralSettings,
        create_app=create_app,
        metadata=Base.metadata,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
    )
