"""Business rules for risk models: drafts and new versions. Publication (after which a
version never changes) takes two people: :mod:`risk_api.publication`."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from risk_api import audit_trail
from risk_api.risk_models.models import ModelStatus, RiskIndicator, RiskModel
from risk_api.risk_models.schemas import RiskModelCreate
from risk_api.scoring import AgeModifier, IndicatorSpec, Thresholds
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import Conflict, NotFound


class RiskModelNotFound(NotFound):
    slug, title = "risk-model-not-found", "Risk model not found"


class PublishedModelIsImmutable(Conflict):
    slug, title = "published-model-immutable", "A published model cannot change"


class NoPublishedModel(Conflict):
    slug, title = "no-published-model", "No published risk model"


def _indicators(data: RiskModelCreate) -> list[RiskIndicator]:
    return [
        RiskIndicator(position=i, **indicator.model_dump()) for i, indicator in enumerate(data.indicators)
    ]


def create_draft(session: Session, principal: Principal, data: RiskModelCreate) -> RiskModel:
    """A new draft numbered after the newest version with the same name. Does not commit:
    the caller (the idempotent create) commits with its answer."""
    latest = session.scalar(select(func.max(RiskModel.version)).where(RiskModel.name == data.name))
    model = RiskModel(
        name=data.name,
        version=(latest or 0) + 1,
        description=data.description,
        medium_from=data.medium_from,
        high_from=data.high_from,
        age_modifiers=[m.model_dump() for m in data.age_modifiers],
        created_by=principal.sub,
        indicators=_indicators(data),
    )
    session.add(model)
    session.flush()
    audit_trail.record(
        session,
        principal,
        "create",
        "risk_model",
        model.id,
        None,
        detail=f"version {model.version} of {model.name}",
    )
    session.flush()
    return get_model(session, model.id)


def get_model(session: Session, model_id: uuid.UUID) -> RiskModel:
    """The model version with its indicators; :class:`RiskModelNotFound` otherwise."""
    model = session.scalar(
        select(RiskModel).where(RiskModel.id == model_id).options(selectinload(RiskModel.indicators))
    )
    if model is None:
        raise RiskModelNotFound(f"There is no risk model {model_id}.")
    return model


def list_models(session: Session, *, limit: int, cursor: str | None) -> tuple[list[RiskModel], str | None]:
    """Every model version, newest first, with indicators."""
    return paginate(
        session,
        select(RiskModel).options(selectinload(RiskModel.indicators)),
        created_at=RiskModel.created_at,
        id_column=RiskModel.id,
        limit=limit,
        cursor=cursor,
    )


def replace_draft(
    session: Session, principal: Principal, model_id: uuid.UUID, data: RiskModelCreate, if_match: str | None
) -> RiskModel:
    """Replace a draft's content (409 once published: publish a new version instead).
    A pending publication request lapses: the approver must see what is published."""
    model = get_model(session, model_id)
    check_if_match(if_match, model.row_version)
    if model.status is not ModelStatus.draft:
        raise PublishedModelIsImmutable(
            f"Version {model.version} of '{model.name}' is {model.status.value} and never changes. "
            "Start a new version (POST .../new-version) and change that."
        )
    if data.name != model.name:
        raise PublishedModelIsImmutable("A draft keeps its model's name; create a new model for a new name.")
    model.description = data.description
    model.medium_from, model.high_from = data.medium_from, data.high_from
    model.age_modifiers = [m.model_dump() for m in data.age_modifiers]
    model.indicators.clear()
    session.flush()  # old indicators out before new ones with the same codes come in
    model.indicators = _indicators(data)
    lapsed = model.publication_requested_by is not None
    model.publication_requested_by = model.publication_requested_at = model.publication_request = None
    audit_trail.record(
        session,
        principal,
        "replace",
        "risk_model",
        model.id,
        None,
        detail=f"version {model.version} of {model.name}"
        + ("; publication request lapsed" if lapsed else ""),
    )
    session.commit()
    return get_model(session, model.id)


def new_version(session: Session, principal: Principal, model_id: uuid.UUID) -> RiskModel:
    """A draft copy of a version, numbered next, for reweighting."""
    source = get_model(session, model_id)
    data = RiskModelCreate.model_validate(
        {
            "name": source.name,
            "description": source.description,
            "medium_from": source.medium_from,
            "high_from": source.high_from,
            "age_modifiers": source.age_modifiers,
            "indicators": [
                {
                    "code": i.code,
                    "wording": i.wording,
                    "category": i.category,
                    "exploitation_type": i.exploitation_type,
                    "weight": i.weight,
                    "hard_trigger": i.hard_trigger,
                }
                for i in source.indicators
            ],
        }
    )
    return create_draft(session, principal, data)


def current_published(session: Session) -> RiskModel | None:
    """The most recently published model, if any: what assessments use unless told otherwise."""
    return session.scalar(
        select(RiskModel)
        .where(RiskModel.status == ModelStatus.published)
        .order_by(RiskModel.published_at.desc())
        .options(selectinload(RiskModel.indicators))
        .limit(1)
    )


def latest_published(session: Session) -> RiskModel:
    """The most recently published model; :class:`NoPublishedModel` if none is."""
    model = current_published(session)
    if model is None:
        raise NoPublishedModel(
            "No risk model is published yet: a governing admin must ask for a draft's publication "
            "and a second one approve it."
        )
    return model


def scoring_inputs(model: RiskModel) -> tuple[dict[str, IndicatorSpec], Thresholds, list[AgeModifier]]:
    """The model as the pure scoring functions take it."""
    specs = {
        i.code: IndicatorSpec(code=i.code, weight=i.weight, hard_trigger=i.hard_trigger)
        for i in model.indicators
    }
    modifiers = [AgeModifier(max_age=int(m["max_age"]), points=int(m["points"])) for m in model.age_modifiers]
    return specs, Thresholds(medium_from=model.medium_from, high_from=model.high_from), modifiers
