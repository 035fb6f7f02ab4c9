"""When the referral service disposes of a child's record (`child.disposed`), the risk
service disposes of everything it holds under the child's id too, keeps only the
de-identified facts its figures count (so no figure about any period moves), and leaves a
disposal record and an audit record saying that it happened, never what it held."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from risk_scenarios import ANALYST, ASSESSOR, MANAGER, answers, new_child
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from risk_api.assessments.models import Assessment
from risk_api.database import AUDIT, DISPOSALS
from risk_api.disposal.models import DisposedAssessmentFact
from risk_api.models import Base
from safeguarding_kit.retention.schedule import load_schedule
from safeguarding_kit.testing import deliver_event, referral_event

pytestmark = pytest.mark.usefixtures("default_model")

STATS = "/api/v1/risk/stats"
HIGH = {"answers": answers("hotel_with_adults")}  # a hard trigger
MEDIUM = {"age_at_assessment": 12, "answers": answers("missing_repeat", "exclusion")}
LOW = {"answers": answers("missing_repeat")}
YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner"],
    "sub": "duty.worker@sheffield-youth",
}
MARCH, APRIL, MAY = (datetime(2025, m, d, 10, tzinfo=UTC) for m, d in ((3, 10), (4, 20), (5, 15)))
# Every risk figure for every period a scrutiny committee might ask for: months, quarters,
# financial years, the current year (by default), and for exact readers arbitrary dates.
PERIODS: list[dict[str, str]] = [
    {"period": p} for p in ("2025-03", "2025-04", "2025-05", "2025-06", "2025-26-Q1", "2024-25", "2025-26")
] + [{}]
EXACT_ONLY: list[dict[str, str]] = [
    {"from": "2025-04-20", "to": "2025-05-16"},
    {"from": "2025-05-15", "to": "2025-05-16"},
]
FIGURES = ("levels", "movements", "assessments-per-child")


def deliver(client, app, event: dict[str, Any]) -> int:
    """Post ``event`` to /internal/events signed as the referral service's relay would."""
    return deliver_event(client, event, receiver="risk-api")


def child_disposed(child: str, *classes: str) -> dict[str, Any]:
    return referral_event(
        "child.disposed",
        child,
        child_id=child,
        record_classes=list(classes or ["exploitation_case_record"]),
        disposed_at=datetime.now(UTC).isoformat(),
    )


def assess(client, tokens, child: str, body: dict, when: datetime, app, **headers: str) -> dict:
    """Assess ``child`` now, then record the assessment as made at ``when``."""
    sent = tokens.headers(**ASSESSOR) | headers
    current = client.get(f"/api/v1/risk/children/{child}", headers=tokens.headers(**ASSESSOR))
    if current.status_code == 200:
        sent["If-Match"] = current.headers["etag"]
    response = client.post(f"/api/v1/risk/children/{child}/assessments", json=body, headers=sent)
    assert response.status_code == 201, response.text
    made = response.json()
    with app.state.database.sessions() as session:
        session.execute(
            update(Assessment).where(Assessment.id == uuid.UUID(made["id"])).values(assessed_at=when)
        )
        session.commit()
    return made


def every_figure(client, tokens) -> dict[str, Any]:
    """Each figure for each period, exact and protected, with its ETag."""
    read = {}
    for who, name, periods in ((ANALYST, "exact", PERIODS + EXACT_ONLY), (MANAGER, "protected", PERIODS)):
        for path in FIGURES:
            for params in periods:
                response = client.get(f"{STATS}/{path}", params=params, headers=tokens.headers(**who))
                assert response.status_code == 200, response.text
                body, etag = response.json(), response.headers["etag"]
                if not params and who is ANALYST:
                    # Exact readers see the current year as at this very moment.
                    body["period"].pop("as_of")
                    etag = None
                read[f"{name} {path} {params}"] = (body, etag)
    return read


def mentions(session: Session, *needles: uuid.UUID) -> dict[str, int]:
    """Rows of each risk table (but the audit trail and the disposal records, which keep
    opaque ids by design) whose values mention any of ``needles``."""
    kept_apart = {AUDIT.log.name, AUDIT.head.name, DISPOSALS.name}
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in kept_apart:
            continue
        for row in session.execute(select(table)).mappings():
            text = json.dumps(dict(row), default=str)
            if any(str(n) in text or n.hex in text for n in needles):
                found[table.name] = found.get(table.name, 0) + 1
    return found


@pytest.fixture
def partnership(client, app, tokens) -> tuple[str, list[str]]:
    """A year of assessments: Kai (to be disposed of) assessed low in March, medium in April
    (a manager raised it to high in May), and twice at one instant in May; others assessed
    in March and April, some again in May, and an override of one of theirs in June."""
    kai = new_child()
    assess(client, tokens, kai, LOW, MARCH, app)
    medium = assess(client, tokens, kai, MEDIUM, APRIL, app, **{"Idempotency-Key": "kai-april"})
    assess(client, tokens, kai, HIGH, MAY, app)
    assess(client, tokens, kai, LOW, MAY, app)  # the same instant: the tie is the figures' to break
    others = [new_child() for _ in range(14)]
    for child in others[:7]:
        assess(client, tokens, child, LOW, MARCH, app)
    for child in others[7:]:
        assess(client, tokens, child, HIGH, APRIL, app)
    for child in others[:3]:
        assess(client, tokens, child, MEDIUM, MAY, app)
    overridden = assess(client, tokens, others[12], MEDIUM, MAY, app)
    for assessment, when in ((medium, MAY - timedelta(days=5)), (overridden, MAY + timedelta(days=30))):
        response = client.post(
            f"/api/v1/risk/assessments/{assessment['id']}/override",
            json={"level": "high", "reason": "Police intelligence: seen with the hotel group again."},
            headers={**tokens.headers(**MANAGER), "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        with app.state.database.sessions() as session:
            session.execute(
                update(Assessment)
                .where(Assessment.id == uuid.UUID(assessment["id"]))
                .values(override_at=when)
            )
            session.commit()
    # The hub linked a youth club to Kai, and a duty worker broke glass on Kai's record.
    assert (
        deliver(
            client, app, referral_event("child.agency_linked", kai, child_id=kai, agency="sheffield-youth")
        )
        == 204
    )
    grant = referral_event(
        "access.break_glass",
        kai,
        grant_id=str(uuid.uuid4()),
        child_id=kai,
        agency=YOUTH_WORKER["agency"],
        granted_to=YOUTH_WORKER["sub"],
        expires_at=(datetime.now(UTC) + timedelta(hours=24)).isoformat(),
    )
    assert deliver(client, app, grant) == 204
    return kai, others


def test_every_risk_figure_for_every_period_is_the_same_after_a_child_is_disposed_of(
    client, app, tokens, partnership
):
    kai, _ = partnership
    before = every_figure(client, tokens)
    exact_levels = before["exact levels {'period': '2025-05'}"][0]
    assert exact_levels["total"]["count"] == 15  # Kai is counted

    assert deliver(client, app, child_disposed(kai)) == 204

    after = every_figure(client, tokens)
    assert after.keys() == before.keys()
    for name, figure in before.items():
        assert after[name] == figure, name


def test_a_disposed_childs_facts_keep_the_order_of_their_assessments_and_nothing_else(
    client, app, tokens, partnership
):
    kai, _ = partnership
    with app.state.database.sessions() as session:
        history = session.execute(
            select(Assessment.assessed_at, Assessment.computed_level, Assessment.final_level)
            .where(Assessment.child_id == uuid.UUID(kai))
            .order_by(Assessment.assessed_at, Assessment.id)
        ).all()
    assert deliver(client, app, child_disposed(kai)) == 204

    with app.state.database.sessions() as session:
        facts = session.scalars(
            select(DisposedAssessmentFact).order_by(
                DisposedAssessmentFact.assessed_at, DisposedAssessmentFact.id
            )
        ).all()
    assert [(f.assessed_at, f.computed_level, f.final_level) for f in facts] == [tuple(r) for r in history]
    assert len({f.subject_key for f in facts}) == 1
    assert facts[0].subject_key != uuid.UUID(kai)
    assert sorted(c.name for c in DisposedAssessmentFact.__table__.columns) == [
        "assessed_at",
        "computed_level",
        "final_level",
        "id",
        "override_at",
        "stats_key",
        "subject_key",
    ]


def test_nothing_of_the_child_remains_in_the_risk_service_but_the_audit_trail_and_the_disposal_record(
    client, app, tokens, partnership
):
    kai, others = partnership
    child = uuid.UUID(kai)
    with app.state.database.sessions() as session:
        kais_assessments = list(session.scalars(select(Assessment.id).where(Assessment.child_id == child)))
        assert set(mentions(session, child, *kais_assessments)) >= {
            "assessments",
            "assessment_answers",
            "child_risk",
            "child_agency_links",
            "break_glass_grants",
            "idempotency_keys",
            "outbox_events",
        }
        others_before = mentions(session, uuid.UUID(others[0]))
    event = child_disposed(kai, "exploitation_case_record", "missing_episode")

    assert deliver(client, app, event) == 204

    with app.state.database.sessions() as session:
        assert mentions(session, child, *kais_assessments) == {}
        # Nobody else's record is touched.
        assert mentions(session, uuid.UUID(others[0])) == others_before
        disposals = session.execute(select(DISPOSALS).where(DISPOSALS.c.subject_id == child)).mappings().all()
        audit = session.execute(
            select(AUDIT.log.c.actor_sub, AUDIT.log.c.action, AUDIT.log.c.detail).where(
                AUDIT.log.c.child_id == child, AUDIT.log.c.action == "dispose"
            )
        ).all()
    assert sorted(d["record_class"] for d in disposals) == ["exploitation_case_record", "missing_episode"]
    for disposal in disposals:
        assert disposal["rule"] == "with the child's record (child.disposed)"
        assert disposal["cause"] == "child.disposed"
        assert disposal["subject_type"] == "child"
        assert disposal["schedule_version"] == load_schedule().version
    [(actor, _, detail)] = audit
    assert actor == "system:events"
    assert detail.startswith(f"child.disposed {event['id']}: 4 assessments")

    # The child's risk is gone for everyone, the assessor and the break-glass holder alike.
    for who in (ASSESSOR, YOUTH_WORKER):
        assert client.get(f"/api/v1/risk/children/{kai}", headers=tokens.headers(**who)).status_code == 404


def test_a_repeated_or_late_disposal_event_changes_and_records_nothing_more(client, app, tokens, partnership):
    kai, _ = partnership
    event = child_disposed(kai)
    assert deliver(client, app, event) == 204

    def counts() -> tuple[int, int, int]:
        with app.state.database.sessions() as session:
            return (
                session.scalar(select(func.count()).select_from(DisposedAssessmentFact)) or 0,
                session.scalar(select(func.count()).select_from(DISPOSALS)) or 0,
                session.scalar(
                    select(func.count()).select_from(AUDIT.log).where(AUDIT.log.c.action == "dispose")
                )
                or 0,
            )

    first = counts()
    assert first == (4, 1, 1)
    assert deliver(client, app, event) == 204  # redelivered: the inbox ignores it
    assert deliver(client, app, child_disposed(kai)) == 204  # announced again: nothing left to dispose of
    assert deliver(client, app, child_disposed(new_child())) == 204  # a child never assessed here
    assert counts() == first


KAI = "the child"


@pytest.mark.parametrize(
    "data",
    [
        {"record_classes": ["exploitation_case_record"]},
        {"child_id": "not-a-uuid", "record_classes": ["exploitation_case_record"]},
        {"child_id": KAI},
        {"child_id": KAI, "record_classes": []},
        {"child_id": KAI, "record_classes": ["birthday_cards"]},
    ],
)
def test_a_disposal_event_that_does_not_say_what_went_is_refused_and_nothing_is_disposed_of(
    client, app, tokens, partnership, data
):
    kai, _ = partnership
    event = child_disposed(kai)
    event["data"] = {name: kai if value == KAI else value for name, value in data.items()}
    assert deliver(client, app, event) == 422
    assert client.get(f"/api/v1/risk/children/{kai}", headers=tokens.headers(**ASSESSOR)).status_code == 200
