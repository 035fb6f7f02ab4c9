"""The information governance team reading what the meetings held about one child for
their subject access request: the items that discussed them with minutes, decisions and
actions, never another child, and the read itself audited."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from meetings_scenarios import COORDINATOR, POLICE, first_meeting_in_two_days_local, series_body

AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
SCHOOL_AUDITOR = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["auditor"]}


def extract_url(child_id: str) -> str:
    return f"/api/v1/meetings/children/{child_id}/subject-access-extract"


def a_meeting(client, tokens, meeting_type="MACE"):
    series = client.post(
        "/api/v1/meetings/series",
        json=series_body(meeting_type=meeting_type, first_meeting_local=first_meeting_in_two_days_local()),
        headers=tokens.headers(**COORDINATOR),
    ).json()
    return client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences", headers=tokens.headers(**POLICE)
    ).json()["items"][0]


def add_item(client, tokens, occurrence, **body):
    response = client.post(
        f"/api/v1/meetings/occurrences/{occurrence['id']}/agenda/items",
        json=body,
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 201, response.text
    return response


def add_action(client, tokens, item_id, description, child_id=None):
    response = client.post(
        f"/api/v1/meetings/agenda-items/{item_id}/actions",
        json={
            "description": description,
            "owner_agency": "south-yorkshire-police",
            "owner_person": "DS Lee Example",
            "due_date": (date.today() + timedelta(days=10)).isoformat(),
            **({"child_id": child_id} if child_id else {}),
        },
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_extract_holds_the_childs_items_decisions_and_actions_and_no_other_child(client, tokens):
    jordan, casey = str(uuid.uuid4()), str(uuid.uuid4())
    occurrence = a_meeting(client, tokens)
    group = add_item(
        client,
        tokens,
        occurrence,
        kind="children_group",
        title=f"Siblings seen with the same adults ({casey[:8]})",
        child_ids=[jordan, casey],
        reason="Raised by police: linked through one adult",
    )
    minuted = client.patch(
        f"/api/v1/meetings/agenda-items/{group.json()['id']}",
        json={"minutes": f"Jordan's plan agreed; child {casey[:8]} ({casey}) to be discussed separately."},
        headers={**tokens.headers(**COORDINATOR), "If-Match": group.headers["etag"]},
    )
    assert minuted.status_code == 200, minuted.text
    client.post(
        f"/api/v1/meetings/agenda-items/{group.json()['id']}/decisions",
        json={"text": f"Strategy discussion for both; {casey[:8]} referred to CSC."},
        headers=tokens.headers(**COORDINATOR),
    )
    mine = add_action(client, tokens, group.json()["id"], "Disruption visit to the takeaway.", jordan)
    theirs = add_action(
        client, tokens, group.json()["id"], "Return-home interview for the other child.", casey
    )
    both = add_action(client, tokens, group.json()["id"], "Share the plan with the school.")
    add_item(
        client,
        tokens,
        occurrence,
        kind="child",
        title="Another child",
        child_ids=[casey],
        reason="Review due",
    )

    response = client.get(extract_url(jordan), headers=tokens.headers(**AUDITOR))
    assert response.status_code == 200, response.text
    extract = response.json()
    [item] = extract["agenda_items"]
    assert (item["kind"], item["with_other_children"], item["meeting"]["meeting_type"]) == (
        "children_group",
        True,
        "MACE",
    )
    assert item["title"] == "Siblings seen with the same adults ([another child])"
    assert (
        item["minutes"]
        == "Jordan's plan agreed; child [another child] ([another child]) to be discussed separately."
    )
    assert [d["text"] for d in item["decisions"]] == [
        "Strategy discussion for both; [another child] referred to CSC."
    ]
    assert [a["id"] for a in extract["actions"]] == [mine["id"], both["id"]]
    assert all(a["owner_person_recorded"] for a in extract["actions"])
    assert theirs["id"] not in response.text
    for trace in (casey, casey[:8], "DS Lee Example", "coordinator-1"):
        assert trace not in response.text


def test_an_intelligence_item_the_child_is_linked_to_is_marked_by_its_kind(client, tokens):
    child = str(uuid.uuid4())
    occurrence = a_meeting(client, tokens, meeting_type="CETG")
    add_item(
        client,
        tokens,
        occurrence,
        kind="person_of_concern",
        title="Person of concern: Shadz",
        child_ids=[child],
        subject_id=str(uuid.uuid4()),
        reason="Linked children",
    )
    [item] = client.get(extract_url(child), headers=tokens.headers(**AUDITOR)).json()["agenda_items"]
    assert (item["kind"], item["meeting"]["meeting_type"]) == ("person_of_concern", "CETG")


def test_each_extract_is_an_audited_read_and_a_child_never_discussed_has_an_empty_one(client, tokens):
    child = str(uuid.uuid4())
    response = client.get(extract_url(child), headers=tokens.headers(**AUDITOR, sub="ig.officer"))
    assert response.status_code == 200
    assert (response.json()["agenda_items"], response.json()["actions"]) == ([], [])
    log = client.get(f"/api/v1/meetings/children/{child}/access-log", headers=tokens.headers(**AUDITOR))
    assert [(e["actor_sub"], e["action"], e["resource_type"]) for e in log.json()["items"]] == [
        ("ig.officer", "read", "subject_access_extract")
    ]


@pytest.mark.parametrize(
    "who", [COORDINATOR, POLICE, SCHOOL_AUDITOR], ids=["coordinator", "police", "school-auditor"]
)
def test_only_information_governance_reads_the_extract(client, tokens, who):
    assert client.get(extract_url(str(uuid.uuid4())), headers=tokens.headers(**who)).status_code == 403
