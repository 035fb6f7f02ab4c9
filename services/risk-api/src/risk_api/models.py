"""Every table of the risk service, imported so the metadata is complete."""

from risk_api.database import Base
from risk_api.risk_models.models import RiskModel

__all__ = ["Base", "RiskModel"]
