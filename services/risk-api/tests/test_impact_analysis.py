"""A partnership checking what a reweighting would do before adopting it."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from risk_scenarios import ADMIN, ANALYST, ASSESSOR, MANAGER
from sqlalchemy import create_engine, func, insert, select

from risk_api.assessments.models import Assessment, AssessmentAnswer, ChildRisk
from risk_api.risk_models.default_model import DEFAULT_INDICATORS
from risk_api.scoring import AgeModifier, IndicatorSpec, Thresholds, score_answers
from risk_api.vocabularies import Answer, RiskLevel
from safeguarding_kit.db import normalise_url, utc_now

CHILDREN = 10_000


def seed_assessed_children(
    database_url: str, model_id: str, count: int
) -> dict[str, tuple[dict[str, Answer], int]]:
    """``count`` children, each with a current assessment of random answers; returns
    each child's answers and age, for an independent re-score."""
    rng = random.Random(20261125)
    codes = [c for c, *_ in DEFAULT_INDICATORS]
    assessments, answer_rows, risks, truth = [], [], [], {}
    now = utc_now()
    for _ in range(count):
        child_id, assessment_id = uuid.uuid4(), uuid.uuid4()
        chosen = {code: rng.choice(list(Answer)) for code in rng.sample(codes, 6)}
        age = rng.randint(10, 17)
        level = rng.choice(list(RiskLevel))
        truth[str(child_id)] = (chosen, age, level)
        assessments.append(
            {
                "id": assessment_id,
                "child_id": child_id,
                "model_id": uuid.UUID(model_id),
                "assessed_by": "seed",
                "assessed_agency": "seed-agency",
                "assessed_at": now,
                "age_at_assessment": age,
                "score": 0,
                "age_points": 0,
                "computed_level": level,
                "final_level": level,
                "hard_triggers": [],
                "row_version": 1,
            }
        )
        answer_rows += [
            {"assessment_id": assessment_id, "indicator_code": c, "answer": a, "contribution": 0}
            for c, a in chosen.items()
        ]
        risks.append(
            {
                "child_id": child_id,
                "current_level": level,
                "assessment_id": assessment_id,
                "assessments_count": 1,
                "updated_at": now,
                "row_version": 1,
            }
        )
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as conn:
        conn.execute(insert(Assessment), assessments)
        conn.execute(insert(AssessmentAnswer), answer_rows)
        conn.execute(insert(ChildRisk), risks)
    engine.dispose()
    return truth


@pytest.mark.usefixtures("default_model")
def test_impact_over_ten_thousand_children_reports_movements_and_changes_nothing(
    client, tokens, database_url
):
    admin = tokens.headers(**ADMIN)
    default = client.get("/api/v1/risk/models", headers=admin).json()["items"][0]
    truth = seed_assessed_children(database_url, default["id"], CHILDREN)

    draft = client.post(f"/api/v1/risk/models/{default['id']}/new-version", headers=admin).json()
    reweighted = {k: draft[k] for k in ("name", "description", "age_modifiers")}
    reweighted |= {
        "medium_from": 6,
        "high_from": 12,
        "indicators": [{**i, "weight": min(i["weight"] + 1, 10)} for i in draft["indicators"]],
    }
    reweighted["indicators"][0]["hard_trigger"] = True  # missing_repeat now a hard trigger
    updated = client.put(
        f"/api/v1/risk/models/{draft['id']}", json=reweighted, headers={**admin, "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text

    engine = create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        before = conn.execute(
            select(ChildRisk.current_level, func.count()).group_by(ChildRisk.current_level)
        ).all()

    impact = client.get(f"/api/v1/risk/models/{draft['id']}/impact", headers=tokens.headers(**ANALYST))
    assert impact.status_code == 200, impact.text
    report = impact.json()
    assert report["exact"] is True

    specs = {
        i["code"]: IndicatorSpec(i["code"], i["weight"], i["hard_trigger"]) for i in reweighted["indicators"]
    }
    modifiers = [AgeModifier(**m) for m in reweighted["age_modifiers"]]
    expected = Counter()
    for answers, age, level in truth.values():
        new = score_answers(specs, answers, Thresholds(6, 12), age=age, age_modifiers=modifiers).level
        expected[(level.value, new.value)] += 1
    cells = {(c["key"]["from_level"], c["key"]["to_level"]): c["count"] for c in report["movements"]["cells"]}
    assert {k: n for k, n in cells.items() if n} == dict(expected)
    assert len(cells) == 9  # every pair of levels listed
    assert report["children_assessed"]["count"] == CHILDREN
    assert report["children_changing"]["count"] == sum(n for (a, b), n in expected.items() if a != b)

    page = client.get(
        f"/api/v1/risk/models/{draft['id']}/children-moving",
        params={"limit": 50},
        headers=tokens.headers(**MANAGER),
    ).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"] is not None
    for child in page["items"]:
        answers, age, level = truth[child["child_id"]]
        new = score_answers(specs, answers, Thresholds(6, 12), age=age, age_modifiers=modifiers).level
        assert (child["from_level"], child["to_level"]) == (level.value, new.value)
        assert level is not new

    with engine.connect() as conn:
        after = conn.execute(
            select(ChildRisk.current_level, func.count()).group_by(ChildRisk.current_level)
        ).all()
    engine.dispose()
    assert sorted(after) == sorted(before)
    model_after = client.get(f"/api/v1/risk/models/{draft['id']}", headers=admin).json()
    assert model_after["status"] == "draft"


def test_an_assessor_cannot_run_an_impact_analysis(client, tokens, default_model):
    default = client.get("/api/v1/risk/models", headers=tokens.headers(**ADMIN)).json()["items"][0]
    response = client.get(f"/api/v1/risk/models/{default['id']}/impact", headers=tokens.headers(**ASSESSOR))
    assert response.status_code == 403
