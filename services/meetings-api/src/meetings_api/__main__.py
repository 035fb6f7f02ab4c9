"""``python -m meetings_api migrate|serve|relay``."""

from meetings_api.app import create_app
from meetings_api.database import EVENTS, MIGRATIONS_DIR, VERSION_TABLE
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.cli import service_main

if __name__ == "__main__":
    service_main(
        load_settings=MeetingsSettings,
        create_app=create_app,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        events=EVENTS,
    )
