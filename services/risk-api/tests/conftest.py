import pytest

from risk_api.app import create_app
from risk_api.database import MIGRATIONS_DIR, VERSION_TABLE
from risk_api.models import Base
from risk_api.risk_models.default_model import install_default_model
from risk_api.settings import RiskSettings
from safeguarding_kit.testing import ServiceSpec


@pytest.fixture(scope="session")
def service_spec() -> ServiceSpec:
    return ServiceSpec(
        name="risk-api",
        settings_class=RiskSettings,
        create_app=create_app,
        metadata=Base.metadata,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
    )


@pytest.fixture
def default_model(app):
    """The shipped default model, published (as `migrate` installs it)."""
    with app.state.database.sessions() as session:
        install_default_model(session)
