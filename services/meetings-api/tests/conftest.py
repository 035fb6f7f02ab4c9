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


@pytest.fixture
def agenda_client(migrated_databases, data_dir, database_url, tokens):
    """The meetings service wired to the real referral and risk services (in-process,
    over their ASGI apps, each on its own database), as agendas are built in production."""
    import httpx
    from fastapi.testclient import TestClient

    import referral_api.app
    import referral_api.database
    import referral_api.models
    import risk_api.app
    import risk_api.database
    import risk_api.models
    from meetings_api.settings import MeetingsSettings
    from referral_api.settings import ReferralSettings
    from risk_api.reference_data import install_reference_data
    from risk_api.settings import RiskSettings
    from safeguarding_kit.testing import empty_tables

    def spec(name, settings_class, module_app, module_db, metadata):
        return ServiceSpec(
            name=name,
            settings_class=settings_class,
            create_app=module_app.create_app,
            metadata=metadata,
            migrations_dir=module_db.MIGRATIONS_DIR,
            version_table=module_db.VERSION_TABLE,
        )

    referral_spec = spec(
        "referral-api",
        ReferralSettings,
        referral_api.app,
        referral_api.database,
        referral_api.models.Base.metadata,
    )
    risk_spec = spec("risk-api", RiskSettings, risk_api.app, risk_api.database, risk_api.models.Base.metadata)
    urls = {s.name: migrated_databases.url_for(s) for s in (referral_spec, risk_spec)}
    install_reference_data(urls["risk-api"])
    common = {"data_dir": data_dir, "environment": "test", "log_json": False, "events_relay_enabled": False}
    referral_app = referral_spec.create_app(ReferralSettings(database_url=urls["referral-api"], **common))
    # Low-risk reviews fall due after a day here, so a review can be due before a meeting two days away.
    risk_app = risk_spec.create_app(RiskSettings(database_url=urls["risk-api"], review_days_low=1, **common))
    meetings_app = create_app(
        MeetingsSettings(
            database_url=database_url,
            risk_api_url="http://risk.test",
            referral_api_url="http://referral.test",
            **common,
        )
    )
    with (
        TestClient(referral_app, base_url="http://referral.test") as referral,
        TestClient(risk_app, base_url="http://risk.test") as risk,
    ):
        meetings_app.state.services_client = httpx.Client(
            mounts={"http://risk.test": risk._transport, "http://referral.test": referral._transport}
        )
        with TestClient(meetings_app) as meetings:
            yield meetings, referral, risk
    empty_tables(urls["referral-api"], referral_spec.metadata)
    empty_tables(urls["risk-api"], risk_spec.metadata)
    empty_tables(database_url, Base.metadata)
