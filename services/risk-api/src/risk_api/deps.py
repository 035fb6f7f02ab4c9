"""The callers each risk endpoint accepts, each checked by the one policy
(:mod:`safeguarding_kit.partnership.policy`) and named after what it allows, and the
service's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from risk_api.settings import RiskSettings
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.partnership.policy import Permission, requires


async def risk_settings(request: Request) -> RiskSettings:
    settings = request.app.state.settings
    assert isinstance(settings, RiskSettings)
    return settings


Settings = Annotated[RiskSettings, Depends(risk_settings)]

# Case workers of any agency: safeguarding_kit.partnership.policy.CaseWorker.
Assessor = Annotated[Principal, Depends(requires(Permission.assess_risk))]
LevelOverrider = Annotated[Principal, Depends(requires(Permission.override_risk_level))]

RiskModelReader = Annotated[Principal, Depends(requires(Permission.read_risk_models))]
RiskModelGovernor = Annotated[Principal, Depends(requires(Permission.govern_risk_models))]
ImpactAnalyst = Annotated[Principal, Depends(requires(Permission.run_impact_analysis))]
PublicationRequestReader = Annotated[
    Principal, Depends(requires(Permission.govern_risk_models, Permission.run_impact_analysis))
]
MovingChildrenReader = Annotated[Principal, Depends(requires(Permission.list_children_moving_level))]
# Information governance handling a subject access request (auditor at an agency granted audits).
SubjectAccessHandler = Annotated[Principal, Depends(requires(Permission.handle_subject_access))]
