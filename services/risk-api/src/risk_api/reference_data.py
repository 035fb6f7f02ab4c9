"""Reference data the risk service needs before its first request: the default model."""

from __future__ import annotations

from risk_api.risk_models.default_model import install_default_model
from safeguarding_kit.db import Database


def install_reference_data(database_url: str) -> None:
    """Publish the default risk model if it is not there yet (run after migrating)."""
    database = Database(database_url)
    try:
        with database.sessions() as session:
            install_default_model(session)
    finally:
        database.dispose()
