"""``python -m risk_api migrate|serve|relay``."""

from risk_api.app import create_app
from risk_api.database import EVENTS, MIGRATIONS_DIR, VERSION_TABLE
from risk_api.reference_data import install_reference_data
from risk_api.settings import RiskSettings
from safeguarding_kit.cli import service_main

if __name__ == "__main__":
    service_main(
        load_settings=RiskSettings,
        create_app=create_app,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        events=EVENTS,
        after_migrate=install_reference_data,
    )
