"""Maker-checker publication of a risk model: a governing admin asks for a draft's
publication, which records what it would change (hard triggers the published version
has and the draft drops, children per movement between levels); a different governing
admin approves, which publishes. A draft changed after the request, or a published
version changed meanwhile, needs a new request."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from risk_api import audit_trail
from risk_api.impact import service as impact_service
from risk_api.impact.service import MovementCounts
from risk_api.publication.schemas import (
    HardTriggerChange,
    ModelVersionRef,
    PublicationRequestRead,
    RemovedHardTrigger,
)
from risk_api.risk_models import service as models_service
from risk_api.risk_models.models import ModelStatus, RiskModel
from risk_api.vocabularies import LEVEL_ORDER, RiskLevel
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.concurrency import check_if_match
from safeguarding_kit.db import utc_now
from safeguarding_kit.figures import FigureCell
from safeguarding_kit.problems import Conflict, Forbidden, NotFound


class NoPublicationRequest(Conflict):
    slug, title = "no-publication-request", "No publication request to approve"


class PublicationRequestNotFound(NotFound):
    slug, title = "publication-request-not-found", "No publication request"


class PublicationRequestOutdated(Conflict):
    slug, title = "publication-request-outdated", "The publication request is out of date"


class SecondPersonRequired(Forbidden):
    slug, title = "second-person-required", "Publishing takes a second person"


def removed_hard_triggers(draft: RiskModel, published: RiskModel | None) -> list[RemovedHardTrigger]:
    """Hard triggers of ``published`` that ``draft`` removes or no longer treats as one."""
    if published is None:
        return []
    in_draft = {i.code: i for i in draft.indicators}
    removed = []
    for indicator in published.indicators:
        if not indicator.hard_trigger:
            continue
        kept = in_draft.get(indicator.code)
        if kept is None:
            change = HardTriggerChange.indicator_removed
        elif not kept.hard_trigger:
            change = HardTriggerChange.no_longer_hard_trigger
        else:
            continue
        removed.append(RemovedHardTrigger(code=indicator.code, wording=indicator.wording, change=change))
    return removed


def _check_draft(model: RiskModel) -> None:
    if model.status is not ModelStatus.draft:
        raise models_service.PublishedModelIsImmutable(
            f"Version {model.version} of '{model.name}' is {model.status.value}; only a draft is published."
        )


def request_publication(
    session: Session, principal: Principal, model_id: uuid.UUID, if_match: str | None
) -> RiskModel:
    """Ask for the draft (at the version ``if_match`` names) to be published, recording
    who asked and what it would change; replaces an earlier request. Audited; commits."""
    model = models_service.get_model(session, model_id)
    check_if_match(if_match, model.row_version)
    _check_draft(model)
    published = models_service.current_published(session)
    removed = removed_hard_triggers(model, published)
    counts = impact_service.count_movements(session, model)
    model.publication_requested_by = principal.sub
    model.publication_requested_at = utc_now()
    model.publication_request = {
        "compared_with": None
        if published is None
        else {"model_id": str(published.id), "name": published.name, "version": published.version},
        "removed_hard_triggers": [r.model_dump(mode="json") for r in removed],
        **counts.as_json(),
    }
    audit_trail.record(
        session,
        principal,
        "request_publication",
        "risk_model",
        model.id,
        None,
        detail=(
            f"version {model.version} of {model.name}; hard triggers removed: "
            + (", ".join(r.code for r in removed) or "none")
        )[:255],
    )
    session.commit()
    return models_service.get_model(session, model.id)


def approve_publication(
    session: Session, principal: Principal, model_id: uuid.UUID, if_match: str | None
) -> RiskModel:
    """Publish the draft, approved by someone other than who asked; from now on it never
    changes. Audited (a refused self-approval too); commits."""
    model = models_service.get_model(session, model_id)
    check_if_match(if_match, model.row_version)
    _check_draft(model)
    if model.publication_requested_by is None or model.publication_request is None:
        raise NoPublicationRequest(
            f"Nobody has asked for version {model.version} of '{model.name}' to be published, or the draft "
            "changed since they did. A governing admin asks (POST .../approval-request) and a second one "
            "approves."
        )
    # The person is their `sub`, whatever agency they act for: stricter than (agency, sub).
    if model.publication_requested_by == principal.sub:
        audit_trail.record(
            session,
            principal,
            "approve_publication",
            "risk_model",
            model.id,
            None,
            outcome="denied",
            detail="the requester cannot approve their own request",
        )
        session.commit()
        raise SecondPersonRequired(
            "You asked for this version to be published, so you cannot also approve it: publishing "
            "takes a second governing admin."
        )
    published = models_service.current_published(session)
    compared_with = model.publication_request.get("compared_with")
    if (None if published is None else str(published.id)) != (compared_with or {}).get("model_id"):
        raise PublicationRequestOutdated(
            "Another version has been published since publication was asked for, so what this one would "
            "change is no longer what the request shows. Ask again (POST .../approval-request)."
        )
    model.status = ModelStatus.published
    model.published_by = principal.sub
    model.published_at = utc_now()
    audit_trail.record(
        session,
        principal,
        "approve_publication",
        "risk_model",
        model.id,
        None,
        detail=(
            f"published version {model.version} of {model.name}; asked by {model.publication_requested_by}"
        )[:255],
    )
    session.commit()
    return models_service.get_model(session, model.id)


def pending_request(session: Session, model_id: uuid.UUID) -> RiskModel:
    """The draft with its publication request; :class:`PublicationRequestNotFound` if none."""
    model = models_service.get_model(session, model_id)
    if model.status is not ModelStatus.draft or model.publication_request is None:
        raise PublicationRequestNotFound(
            f"Version {model.version} of '{model.name}' has no publication request waiting for approval."
        )
    return model


def _lowering_warning(report_cells: list[FigureCell]) -> str | None:
    """A warning naming each movement to a lower level with children in it, each count as
    the caller may see it (a hidden cell is never zero)."""
    lowering = [
        c
        for c in report_cells
        if LEVEL_ORDER[RiskLevel(c.key["to_level"])] < LEVEL_ORDER[RiskLevel(c.key["from_level"])]
        and (c.suppressed is not None or c.count)
    ]
    if not lowering:
        return None
    listed = ", ".join(f"{c.key['from_level']}->{c.key['to_level']} {c.display}" for c in lowering)
    return f"Children would move to a lower level (children per movement): {listed}."


def publication_request_read(model: RiskModel, *, exact: bool, threshold: int) -> PublicationRequestRead:
    """The request as a caller may see it: its counts exact or under the disclosure scheme."""
    assert model.publication_request is not None
    assert model.publication_requested_at is not None
    stored = model.publication_request
    removed = [RemovedHardTrigger.model_validate(r) for r in stored["removed_hard_triggers"]]
    impact = impact_service.impact_report(
        model.id, MovementCounts.from_json(stored), exact=exact, threshold=threshold
    )
    warnings = [
        f"'{r.code}' ({r.wording}) would no longer be a hard trigger: a child with it present would no "
        "longer be high whatever the total."
        + (" The indicator is removed altogether." if r.change is HardTriggerChange.indicator_removed else "")
        for r in removed
    ]
    lowering = _lowering_warning(impact.movements.cells)
    if lowering:
        warnings.append(lowering)
    compared_with = stored.get("compared_with")
    return PublicationRequestRead(
        model_id=model.id,
        name=model.name,
        version=model.version,
        requested_by=model.publication_requested_by or "",
        requested_at=model.publication_requested_at,
        compared_with=None if compared_with is None else ModelVersionRef.model_validate(compared_with),
        removed_hard_triggers=removed,
        lowers_some_children=lowering is not None,
        warnings=warnings,
        impact=impact,
        etag_version=model.row_version,
    )
