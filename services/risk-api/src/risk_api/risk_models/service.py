"""Business rules for risk models, as plain functions over a session."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from risk_api.risk_models.models import RiskModel
from risk_api.risk_models.schemas import RiskModelCreate
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate


def create_draft_model(session: Session, principal: Principal, data: RiskModelCreate) -> RiskModel:
    """A new draft: the next version number of the model with this name."""
    latest = session.scalar(select(func.max(RiskModel.version)).where(RiskModel.name == data.name))
    model = RiskModel(
        name=data.name,
        version=(latest or 0) + 1,
        description=data.description,
        created_by=principal.sub,
    )
    session.add(model)
    session.commit()
    return model


def list_models(session: Session, *, limit: int, cursor: str | None) -> tuple[list[RiskModel], str | None]:
    """Every model version, newest first."""
    return paginate(
        session,
        select(RiskModel),
        created_at=RiskModel.created_at,
        id_column=RiskModel.id,
        limit=limit,
        cursor=cursor,
    )
