"""Every table of the risk service, imported so the metadata is complete."""

from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildRisk
from risk_api.database import AUDIT, Base
from risk_api.risk_models.models import RiskIndicator, RiskModel

__all__ = ["AUDIT", "Assessment", "AssessmentAnswer", "Base", "ChildRisk", "RiskIndicator", "RiskModel"]
