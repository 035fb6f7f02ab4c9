"""Impact analysis: re-score every child's current assessment under a model version
in the database, as one set-based query (no query per child), and report movements.

The report is counts only, under the one disclosure scheme for callers without exact
figures; which children would move is a separate list for the hub's case workers,
each child listed audited as a read of that child's risk."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from risk_api import audit_trail
from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildRisk
from risk_api.impact.schemas import ChildMovingLevel, ImpactRead
from risk_api.risk_models import service as models_service
from risk_api.risk_models.models import RiskIndicator, RiskModel
from risk_api.vocabularies import LEVEL_ORDER, Answer, RiskLevel
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.figures import FigureCell, FigureTable, figure_table, hidden_cell, protected_count
from safeguarding_kit.problems import InvalidCursor


def _age_points(age: Any, modifiers: list[dict[str, Any]]) -> ColumnElement[int]:
    ordered = sorted(modifiers, key=lambda m: -int(m["points"]))
    if not ordered:
        return literal(0)
    return case(*[(age <= int(m["max_age"]), int(m["points"])) for m in ordered], else_=0)


def rescored_levels(model: RiskModel) -> Any:
    """A subquery: child_id, from_level, to_level, overridden and the child's stats_key,
    for every child with a current assessment, scored under ``model``."""
    answer_weight = case((AssessmentAnswer.answer == Answer.present.value, RiskIndicator.weight), else_=0)
    triggered = case(
        (and_(AssessmentAnswer.answer == Answer.present.value, RiskIndicator.hard_trigger.is_(True)), 1),
        else_=0,
    )
    score = func.coalesce(func.sum(answer_weight), 0) + _age_points(
        Assessment.age_at_assessment, model.age_modifiers
    )
    to_level = case(
        (func.max(triggered) == 1, RiskLevel.high.value),
        (score >= model.high_from, RiskLevel.high.value),
        (score >= model.medium_from, RiskLevel.medium.value),
        else_=RiskLevel.low.value,
    )
    overridden = Assessment.final_level != Assessment.computed_level
    return (
        select(
            ChildRisk.child_id.label("child_id"),
            ChildRisk.current_level.label("from_level"),
            to_level.label("to_level"),
            overridden.label("overridden"),
            ChildRisk.stats_key.label("stats_key"),
        )
        .join(Assessment, Assessment.id == ChildRisk.assessment_id)
        .outerjoin(AssessmentAnswer, AssessmentAnswer.assessment_id == Assessment.id)
        .outerjoin(
            RiskIndicator,
            and_(RiskIndicator.model_id == model.id, RiskIndicator.code == AssessmentAnswer.indicator_code),
        )
        .group_by(
            ChildRisk.child_id,
            ChildRisk.current_level,
            ChildRisk.stats_key,
            Assessment.age_at_assessment,
            overridden,
        )
        .subquery("rescored")
    )


Movement = tuple[RiskLevel, RiskLevel]
MOVEMENTS: list[Movement] = [(a, b) for a in RiskLevel for b in RiskLevel]


@dataclass(frozen=True)
class MovementCounts:
    """Exact counts: children per (current level, level under the model) and the sum of
    their record keys (``child_risk.stats_key``, for the cell key method), and how many
    children's current level is a manager's override (with their key sum)."""

    children: dict[Movement, int]
    keys: dict[Movement, int]
    overridden: int
    overridden_keys: int

    def as_json(self) -> dict[str, Any]:
        """The counts as stored with a publication request (never shown as they are)."""
        return {
            "movements": [
                {
                    "from_level": a.value,
                    "to_level": b.value,
                    "children": n,
                    "key_sum": self.keys.get((a, b), 0),
                }
                for (a, b), n in self.children.items()
            ],
            "overridden_children": self.overridden,
            "overridden_key_sum": self.overridden_keys,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MovementCounts:
        """Counts stored by :meth:`as_json` (a request stored before key sums were kept
        reads them as 0: its noise then depends on the counts alone)."""
        children: dict[Movement, int] = {m: 0 for m in MOVEMENTS}
        keys: dict[Movement, int] = {m: 0 for m in MOVEMENTS}
        for m in data["movements"]:
            movement = (RiskLevel(m["from_level"]), RiskLevel(m["to_level"]))
            children[movement] = int(m["children"])
            keys[movement] = int(m.get("key_sum", 0))
        return cls(
            children=children,
            keys=keys,
            overridden=int(data["overridden_children"]),
            overridden_keys=int(data.get("overridden_key_sum", 0)),
        )


def count_movements(session: Session, model: RiskModel) -> MovementCounts:
    """How many children would move from each level to each other under ``model``
    (every pair of levels, zeros included), with their key sums. Reads only; ends no
    transaction."""
    rescored = rescored_levels(model)
    rows = session.execute(
        select(
            rescored.c.from_level,
            rescored.c.to_level,
            func.count().label("children"),
            func.coalesce(func.sum(rescored.c.stats_key), 0).label("key_sum"),
            func.sum(case((rescored.c.overridden, 1), else_=0)).label("overridden"),
            func.sum(case((rescored.c.overridden, rescored.c.stats_key), else_=0)).label("overridden_keys"),
        ).group_by(rescored.c.from_level, rescored.c.to_level)
    ).all()
    children: dict[Movement, int] = {m: 0 for m in MOVEMENTS}
    keys: dict[Movement, int] = {m: 0 for m in MOVEMENTS}
    for row in rows:
        movement = (RiskLevel(row.from_level), RiskLevel(row.to_level))
        children[movement] += int(row.children)
        keys[movement] += int(row.key_sum)
    return MovementCounts(
        children=children,
        keys=keys,
        overridden=sum(int(r.overridden or 0) for r in rows),
        overridden_keys=sum(int(r.overridden_keys or 0) for r in rows),
    )


def _sum_of_cells(
    counts: MovementCounts,
    table: FigureTable,
    wanted: set[Movement],
    *,
    key: dict[str, str],
    exact: bool,
    threshold: int,
) -> FigureCell:
    """Children in some cells of the movements table, as one count: exact, or hidden
    (secondary) when any of those cells is hidden, else protected as a cell is (perturbed
    by the cell key of all their children)."""
    if not exact and any(
        c.suppressed is not None
        for c in table.cells
        if (RiskLevel(c.key["from_level"]), RiskLevel(c.key["to_level"])) in wanted
    ):
        return hidden_cell(key, "secondary")
    return protected_count(
        sum(counts.children[m] for m in wanted),
        sum(counts.keys[m] for m in wanted),
        exact=exact,
        threshold=threshold,
        key=key,
    )


def impact_report(model_id: uuid.UUID, counts: MovementCounts, *, exact: bool, threshold: int) -> ImpactRead:
    """The counts as a caller may see them: exact, or under the disclosure scheme."""
    levels = [level.value for level in RiskLevel]
    movements = figure_table(
        [(a.value, b.value, n, counts.keys[(a, b)]) for (a, b), n in counts.children.items()],
        ["from_level", "to_level"],
        exact=exact,
        threshold=threshold,
        rows=levels,
        columns=levels,
        note="From each child's current level to the level under this model.",
    )
    assessed = sum(counts.children.values())
    overridden = figure_table(
        [
            ("overridden", "all", counts.overridden, counts.overridden_keys),
            (
                "scored",
                "all",
                assessed - counts.overridden,
                sum(counts.keys.values()) - counts.overridden_keys,
            ),
        ],
        ["current_level_source"],
        exact=exact,
        threshold=threshold,
        rows=["overridden", "scored"],
    )

    def moving(name: str, wanted: set[Movement]) -> FigureCell:
        return _sum_of_cells(
            counts, movements, wanted, key={"movement": name}, exact=exact, threshold=threshold
        )

    return ImpactRead(
        model_id=model_id,
        exact=exact,
        children_assessed=movements.total,
        children_changing=moving("changing", {(a, b) for a, b in MOVEMENTS if a != b}),
        children_moving_down=moving(
            "down", {(a, b) for a, b in MOVEMENTS if LEVEL_ORDER[b] < LEVEL_ORDER[a]}
        ),
        children_moving_up=moving("up", {(a, b) for a, b in MOVEMENTS if LEVEL_ORDER[b] > LEVEL_ORDER[a]}),
        overridden_children=next(
            c for c in overridden.cells if c.key["current_level_source"] == "overridden"
        ),
        movements=movements,
    )


def impact_of(
    session: Session, principal: Principal, model_id: uuid.UUID, *, exact: bool, threshold: int
) -> ImpactRead:
    """How many children would change level under the model, and how (counts only,
    exact or protected as ``exact`` says). Changes no risk; audits who ran it; commits."""
    model = models_service.get_model(session, model_id)
    counts = count_movements(session, model)
    audit_trail.record(
        session,
        principal,
        "impact_analysis",
        "risk_model",
        model.id,
        None,
        detail=f"version {model.version} of {model.name}",
    )
    session.commit()
    return impact_report(model.id, counts, exact=exact, threshold=threshold)


def _encode_cursor(child_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(child_id)]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> uuid.UUID:
    try:
        (child_id,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return uuid.UUID(child_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.") from exc


def children_moving(
    session: Session,
    principal: Principal,
    model_id: uuid.UUID,
    *,
    from_level: RiskLevel | None,
    to_level: RiskLevel | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ChildMovingLevel], str | None]:
    """One page (by child id) of the children whose level would change under the
    model, each audited as a read of that child's risk; commits."""
    model = models_service.get_model(session, model_id)
    rescored = rescored_levels(model)
    stmt = select(
        rescored.c.child_id, rescored.c.from_level, rescored.c.to_level, rescored.c.overridden
    ).where(rescored.c.from_level != rescored.c.to_level)
    if from_level is not None:
        stmt = stmt.where(rescored.c.from_level == from_level.value)
    if to_level is not None:
        stmt = stmt.where(rescored.c.to_level == to_level.value)
    if cursor:
        stmt = stmt.where(rescored.c.child_id > _decode_cursor(cursor))
    rows = session.execute(stmt.order_by(rescored.c.child_id).limit(limit + 1)).all()
    page = [
        ChildMovingLevel(
            child_id=r.child_id, from_level=r.from_level, to_level=r.to_level, overridden=bool(r.overridden)
        )
        for r in rows[:limit]
    ]
    for child in page:
        audit_trail.record(
            session,
            principal,
            "read",
            "child_risk",
            child.child_id,
            child.child_id,
            detail=f"listed as moving {child.from_level}->{child.to_level} under risk model {model.id}",
        )
    session.commit()
    return page, _encode_cursor(page[-1].child_id) if len(rows) > limit else None
