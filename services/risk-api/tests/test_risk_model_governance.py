"""Who governs the partnership's risk model (issue 13): only admins of an agency the
agreement grants `governs_risk_models` draft models; publishing takes a second of them
approving what the first asked for, seeing what it would change; impact analysis is
counts only, protected for callers without exact figures; and only the hub's case
workers list the children a model would move, each child audited."""

from __future__ import annotations

import re

import pytest
from risk_scenarios import (
    ADMIN,
    ANALYST,
    ASSESSOR,
    COUNCIL_AUDITOR,
    HEALTH_PRACTITIONER,
    MANAGER,
    PROBLEM,
    SECOND_ADMIN,
    VOLUNTARY_MANAGER,
    YOUTH_CLUB_ADMIN,
    YOUTH_WORKER,
    answers,
    new_child,
)
from sqlalchemy import create_engine, select

from risk_api.database import AUDIT
from safeguarding_kit.db import normalise_url
from safeguarding_kit.disclosure import MAX_NOISE

pytestmark = pytest.mark.usefixtures("default_model")

MODELS = "/api/v1/risk/models"


def default_model(client, tokens):
    listed = client.get(MODELS, headers=tokens.headers(**ADMIN)).json()["items"]
    return next(m for m in listed if m["status"] == "published")


def draft_without_the_hotel_trigger(client, tokens, who=ADMIN):
    """A new version of the default model in which a child taken to hotels by adults is
    no longer high whatever else is known: the youth club admin's attack."""
    default = default_model(client, tokens)
    draft = client.post(f"{MODELS}/{default['id']}/new-version", headers=tokens.headers(**who))
    assert draft.status_code == 201, draft.text
    body = {k: draft.json()[k] for k in ("name", "description", "medium_from", "high_from", "age_modifiers")}
    body["indicators"] = [
        {**i, "hard_trigger": False} if i["code"] == "hotel_with_adults" else i
        for i in draft.json()["indicators"]
    ]
    weakened = client.put(
        f"{MODELS}/{draft.json()['id']}",
        json=body,
        headers={**tokens.headers(**who), "If-Match": draft.headers["etag"]},
    )
    assert weakened.status_code == 200, weakened.text
    return weakened


def assess_children(client, tokens, taken_to_hotels: int, missing_once: int) -> tuple[list[str], list[str]]:
    """Children assessed under the default model: some taken to hotels by adults (high
    by the hard trigger, low once it goes) and some only missing (low either way)."""
    groups: tuple[list[str], list[str]] = ([], [])
    for group, count, present in (
        (groups[0], taken_to_hotels, "hotel_with_adults"),
        (groups[1], missing_once, "missing_repeat"),
    ):
        for _ in range(count):
            child = new_child()
            response = client.post(
                f"/api/v1/risk/children/{child}/assessments",
                json={"age_at_assessment": 15, "answers": answers(present)},
                headers=tokens.headers(**ASSESSOR),
            )
            assert response.status_code == 201, response.text
            group.append(child)
    return groups


def ask(client, tokens, model, who=ADMIN):
    return client.post(
        f"{MODELS}/{model.json()['id']}/approval-request",
        headers={**tokens.headers(**who), "If-Match": model.headers["etag"]},
    )


def approve(client, tokens, model_id, etag, who=SECOND_ADMIN):
    return client.post(f"{MODELS}/{model_id}/approval", headers={**tokens.headers(**who), "If-Match": etag})


def audit_records(database_url, **where):
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as conn:
        rows = conn.execute(select(AUDIT.log).order_by(AUDIT.log.c.seq)).mappings().all()
    engine.dispose()
    return [r for r in rows if all(str(r[k]) == str(v) for k, v in where.items())]


def test_youth_club_admin_cannot_create_or_publish_a_risk_model(client, tokens):
    youth = tokens.headers(**YOUTH_CLUB_ADMIN)
    default = default_model(client, tokens)
    body = {k: default[k] for k in ("name", "description", "medium_from", "high_from", "age_modifiers")}
    body["indicators"] = [{**i, "hard_trigger": False} for i in default["indicators"]]

    assert client.post(MODELS, json=body, headers=youth).status_code == 403
    assert client.post(f"{MODELS}/{default['id']}/new-version", headers=youth).status_code == 403

    # A governing admin's draft and request: the youth club admin can neither change,
    # ask for nor approve its publication.
    draft = draft_without_the_hotel_trigger(client, tokens)
    draft_id = draft.json()["id"]
    changed = client.put(
        f"{MODELS}/{draft_id}", json=body, headers={**youth, "If-Match": draft.headers["etag"]}
    )
    assert changed.status_code == 403
    assert ask(client, tokens, draft, who=YOUTH_CLUB_ADMIN).status_code == 403
    asked = ask(client, tokens, draft)
    assert asked.status_code == 201
    refused = approve(client, tokens, draft_id, asked.headers["etag"], who=YOUTH_CLUB_ADMIN)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert "governs_risk_models" in refused.json()["detail"]

    # No way to publish alone: the old direct publication is gone.
    old = client.post(f"{MODELS}/{draft_id}/publish", headers={**youth, "If-Match": asked.headers["etag"]})
    assert old.status_code in (404, 405)
    after = client.get(f"{MODELS}/{draft_id}", headers=tokens.headers(**ADMIN)).json()
    assert (after["status"], after["published_by"]) == ("draft", None)
    assert default_model(client, tokens)["id"] == default["id"]


def test_publishing_needs_a_second_governing_admin(client, tokens, database_url):
    draft = draft_without_the_hotel_trigger(client, tokens)
    draft_id = draft.json()["id"]

    never_asked = approve(client, tokens, draft_id, draft.headers["etag"])
    assert never_asked.status_code == 409
    assert never_asked.json()["type"].endswith("no-publication-request")

    asked = ask(client, tokens, draft)
    assert asked.status_code == 201, asked.text
    assert asked.json()["requested_by"] == ADMIN["sub"]

    own = approve(client, tokens, draft_id, asked.headers["etag"], who=ADMIN)
    assert own.status_code == 403
    assert own.headers["content-type"] == PROBLEM
    assert own.json()["type"].endswith("second-person-required")
    assert "second governing admin" in own.json()["detail"]

    # A draft changed after the request needs a new request.
    model = client.get(f"{MODELS}/{draft_id}", headers=tokens.headers(**ADMIN))
    assert model.json()["publication_requested_by"] == ADMIN["sub"]
    body = {k: model.json()[k] for k in ("name", "description", "medium_from", "high_from", "age_modifiers")}
    body["indicators"] = [
        {**i, "weight": 1} if i["code"] == "exclusion" else i for i in model.json()["indicators"]
    ]
    changed = client.put(
        f"{MODELS}/{draft_id}",
        json=body,
        headers={**tokens.headers(**ADMIN), "If-Match": model.headers["etag"]},
    )
    assert changed.status_code == 200
    assert changed.json()["publication_requested_by"] is None
    stale = approve(client, tokens, draft_id, asked.headers["etag"])
    assert stale.status_code == 412
    lapsed = approve(client, tokens, draft_id, changed.headers["etag"])
    assert lapsed.status_code == 409
    assert lapsed.json()["type"].endswith("no-publication-request")

    asked_again = ask(client, tokens, changed)
    assert asked_again.status_code == 201
    published = approve(client, tokens, draft_id, asked_again.headers["etag"])
    assert published.status_code == 200, published.text
    model = published.json()
    assert model["status"] == "published"
    assert (model["publication_requested_by"], model["published_by"]) == (ADMIN["sub"], SECOND_ADMIN["sub"])
    assert model["publication_requested_at"] <= model["published_at"]
    assert default_model(client, tokens)["id"] == draft_id

    actions = [
        (r["action"], r["actor_sub"], r["outcome"]) for r in audit_records(database_url, resource_id=draft_id)
    ]
    assert ("request_publication", ADMIN["sub"], "allowed") in actions
    assert ("approve_publication", ADMIN["sub"], "denied") in actions
    assert actions[-1] == ("approve_publication", SECOND_ADMIN["sub"], "allowed")


def test_the_approval_request_shows_a_removed_hard_trigger_and_children_moving_down(client, tokens):
    taken_to_hotels, _ = assess_children(client, tokens, taken_to_hotels=8, missing_once=6)
    default = default_model(client, tokens)
    draft = draft_without_the_hotel_trigger(client, tokens)

    asked = ask(client, tokens, draft)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["compared_with"] == {"model_id": default["id"], "name": default["name"], "version": 1}
    assert request["removed_hard_triggers"] == [
        {
            "code": "hotel_with_adults",
            "wording": "Taken to or found in hotels or B&Bs with adults",
            "change": "no_longer_hard_trigger",
        }
    ]
    assert request["lowers_some_children"] is True
    assert any("hotel_with_adults" in w for w in request["warnings"])
    # An admin has no exact figures: 8 children shown as 8 give or take the cell key noise.
    [lowering] = [w for w in request["warnings"] if "lower level" in w]
    shown = int(re.search(r"high->low (\d+)", lowering).group(1))
    assert abs(shown - len(taken_to_hotels)) <= MAX_NOISE
    moving_down = request["impact"]["children_moving_down"]
    assert (moving_down["suppressed"], moving_down["key"]) == (None, {"movement": "down"})
    assert abs(moving_down["count"] - len(taken_to_hotels)) <= MAX_NOISE
    assert moving_down["display"] == str(moving_down["count"])
    assert request["etag_version"] == int(asked.headers["etag"].strip('"'))

    # The approver reads the same request before approving.
    seen = client.get(
        f"{MODELS}/{draft.json()['id']}/approval-request", headers=tokens.headers(**SECOND_ADMIN)
    )
    assert seen.status_code == 200
    assert seen.json() == request
    assert seen.headers["etag"] == asked.headers["etag"]


def test_voluntary_sector_manager_cannot_run_impact_analysis(client, tokens):
    assess_children(client, tokens, taken_to_hotels=2, missing_once=1)
    draft = draft_without_the_hotel_trigger(client, tokens)
    draft_id = draft.json()["id"]
    ask(client, tokens, draft)
    for who in (VOLUNTARY_MANAGER, YOUTH_CLUB_ADMIN, MANAGER, ASSESSOR):
        headers = tokens.headers(**who)
        impact = client.get(f"{MODELS}/{draft_id}/impact", headers=headers)
        assert impact.status_code == 403, who
        assert impact.headers["content-type"] == PROBLEM
        assert client.get(f"{MODELS}/{draft_id}/approval-request", headers=headers).status_code == 403
    refused = client.get(f"{MODELS}/{draft_id}/children-moving", headers=tokens.headers(**VOLUNTARY_MANAGER))
    assert refused.status_code == 403


def test_impact_counts_are_protected_for_callers_without_exact_figures(client, tokens, database_url):
    taken_to_hotels, missing_once = assess_children(client, tokens, taken_to_hotels=3, missing_once=9)
    draft_id = draft_without_the_hotel_trigger(client, tokens).json()["id"]

    protected = client.get(f"{MODELS}/{draft_id}/impact", headers=tokens.headers(**ADMIN))
    assert protected.status_code == 200, protected.text
    report = protected.json()
    cells = {(c["key"]["from_level"], c["key"]["to_level"]): c for c in report["movements"]["cells"]}
    assert report["exact"] is False
    assert list(cells) == [(a, b) for a in ("low", "medium", "high") for b in ("low", "medium", "high")]
    assert (cells[("high", "low")]["count"], cells[("high", "low")]["display"]) == (None, "c")
    assert cells[("high", "low")]["suppressed"] == "primary"
    assert "c" in {r["display"] for r in report["movements"]["row_totals"] if r["key"]["from_level"] != "low"}
    for derived in ("children_moving_down", "children_changing"):
        assert (report[derived]["count"], report[derived]["display"]) == (None, "c"), derived
    truth = {("high", "low"): 3, ("low", "low"): 9}
    for key, cell in cells.items():
        if cell["suppressed"] is None:
            assert cell["count"] == 0 or cell["count"] > 5, cell
            assert abs(cell["count"] - truth.get(key, 0)) <= MAX_NOISE, cell
    for child in taken_to_hotels + missing_once:
        assert child not in protected.text

    exact = client.get(f"{MODELS}/{draft_id}/impact", headers=tokens.headers(**ANALYST)).json()
    exact_cells = {
        (c["key"]["from_level"], c["key"]["to_level"]): c["count"] for c in exact["movements"]["cells"]
    }
    assert exact["exact"] is True
    assert exact_cells[("high", "low")] == 3
    assert exact_cells[("low", "low")] == 9
    assert (exact["children_assessed"]["count"], exact["children_moving_down"]["count"]) == (12, 3)
    assert exact["children_moving_down"]["display"] == "3"

    # The approval request shows the same counts under the same protection.
    model = client.get(f"{MODELS}/{draft_id}", headers=tokens.headers(**ADMIN))
    asked = ask(client, tokens, model)
    assert asked.json()["impact"]["children_moving_down"]["display"] == "c"
    assert "high->low c" in " ".join(asked.json()["warnings"])

    ran = audit_records(database_url, action="impact_analysis", resource_id=draft_id)
    assert [(r["actor_sub"], r["actor_agency"], r["child_id"]) for r in ran] == [
        ("admin-1", "sheffield-council", None),
        ("worker@sheffield-council", "sheffield-council", None),
    ]


def test_only_all_cases_case_workers_list_children_who_would_move_and_each_is_audited(
    client, tokens, database_url
):
    taken_to_hotels, _ = assess_children(client, tokens, taken_to_hotels=3, missing_once=2)
    draft_id = draft_without_the_hotel_trigger(client, tokens).json()["id"]
    path = f"{MODELS}/{draft_id}/children-moving"

    # Governing the model or auditing is no case role; a case worker of an agency
    # without all_cases sees only linked children, so never this list.
    for who in (ADMIN, ANALYST, COUNCIL_AUDITOR, YOUTH_WORKER, VOLUNTARY_MANAGER):
        refused = client.get(path, headers=tokens.headers(**who))
        assert refused.status_code == 403, who
        assert refused.headers["content-type"] == PROBLEM

    first = client.get(path, params={"limit": 2}, headers=tokens.headers(**MANAGER))
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 2
    assert first.json()["next_cursor"]
    second = client.get(
        path, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=tokens.headers(**MANAGER)
    ).json()
    assert second["next_cursor"] is None
    listed = first.json()["items"] + second["items"]
    assert sorted(c["child_id"] for c in listed) == sorted(taken_to_hotels)
    assert {(c["from_level"], c["to_level"], c["overridden"]) for c in listed} == {("high", "low", False)}

    by_filter = client.get(path, params={"to_level": "medium"}, headers=tokens.headers(**HEALTH_PRACTITIONER))
    assert by_filter.status_code == 200
    assert by_filter.json()["items"] == []

    for child in taken_to_hotels:
        reads = audit_records(database_url, child_id=child, action="read", resource_type="child_risk")
        assert [(r["actor_sub"], r["actor_agency"]) for r in reads] == [
            ("manager-1", "sheffield-social-care")
        ]
        assert draft_id in reads[0]["detail"]

    bad_cursor = client.get(path, params={"cursor": "not-ours"}, headers=tokens.headers(**MANAGER))
    assert bad_cursor.status_code == 400
