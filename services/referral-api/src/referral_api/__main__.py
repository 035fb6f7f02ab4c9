"""``python -m referral_api migrate|serve|relay``."""

from referral_api.app import create_app
from referral_api.database import EVENTS, MIGRATIONS_DIR, VERSION_TABLE
from referral_api.settings import ReferralSettings
from safeguarding_kit.cli import service_main

if __name__ == "__main__":
    service_main(
        load_settings=ReferralSettings,
        create_app=create_app,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        events=EVENTS,
    )
