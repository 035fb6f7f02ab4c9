"""Every table of the risk service, imported so the metadata is complete."""

from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildAgencyLink, ChildRisk
from risk_api.break_glass.models import BreakGlassGrant
from risk_api.database import AUDIT, DISPOSALS, EVENTS, IDEMPOTENCY, Base
from risk_api.disposal.models import DisposedAssessmentFact
from risk_api.risk_models.models import RiskIndicator, RiskModel

__all__ = [
    "AUDIT",
    "DISPOSALS",
    "EVENTS",
    "IDEMPOTENCY",
    "Assessment",
    "AssessmentAnswer",
    "Base",
    "BreakGlassGrant",
    "ChildAgencyLink",
    "ChildRisk",
    "DisposedAssessmentFact",
    "RiskIndicator",
    "RiskModel",
]
