"""Who reads a meeting's agenda, attendance and minutes (issue 13): case workers of the
agencies the partnership agreement grants `chairs_meetings`, and case workers of an
agency invited to that meeting (on its attendance list, present, with apologies or
absent). A token without a case role never does, whatever its agency (403, before any
record is looked at); a case worker of an agency not invited gets 404, as for a meeting
that does not exist, and the refusal is audited."""

from __future__ import annotations

import re
import uuid

from meetings_scenarios import COORDINATOR, PROBLEM, series_body

AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
YOUTH = {"agency": "sheffield-youth", "agency_type": "youth_service"}
SCHOOL_WORKER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}
# The MASH health team sees every child's case (all_cases) but does not chair meetings.
HEALTH_WORKER = {"agency": "sheffield-health", "agency_type": "health", "roles": ["practitioner"]}
CHAIR_AGENCY = {"agency": "sheffield-social-care", "agency_type": "social_care"}
HEALTH_COORDINATOR = {"agency": "sheffield-health", "agency_type": "health", "roles": ["meeting_coordinator"]}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CHILDREN = [uuid.UUID(int=0x5B0E8C3A7F214D6EA9B40C1D2E3F4A00 + n) for n in range(30)]


def mace_with_an_absent_youth_service(client, tokens) -> dict[str, str]:
    """A MACE meeting whose agenda names 30 children, minuted and with a decision, to which
    the youth service was invited and sent nobody."""
    coordinator = tokens.headers(**COORDINATOR)
    series = client.post("/api/v1/meetings/series", json=series_body(), headers=coordinator).json()
    meeting = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        params={"from": "2027-03-01T00:00:00Z", "to": "2027-03-15T00:00:00Z"},
        headers=coordinator,
    ).json()["items"][0]
    attendees = [
        {
            "agency": "sheffield-social-care",
            "agency_type": "social_care",
            "person_name": "Jo Chair",
            "status": "present",
        },
        {
            "agency": "sheffield-youth",
            "agency_type": "youth_service",
            "person_name": "Kim Youth",
            "status": "absent",
        },
    ]
    recorded = client.put(
        f"/api/v1/meetings/occurrences/{meeting['id']}/attendance",
        json={"attendees": attendees},
        headers=coordinator,
    )
    assert recorded.status_code == 200, recorded.text
    item_id = ""
    for first in range(0, 30, 10):
        item = client.post(
            f"/api/v1/meetings/occurrences/{meeting['id']}/agenda/items",
            json={
                "kind": "children_group",
                "title": "Children seen at the same hotel",
                "child_ids": [str(c) for c in CHILDREN[first : first + 10]],
                "reason": "Raised by police",
            },
            headers=coordinator,
        )
        assert item.status_code == 201, item.text
        item_id = item.json()["id"]
        minuted = client.patch(
            f"/api/v1/meetings/agenda-items/{item_id}",
            json={"minutes": "Police shared intelligence; plan agreed."},
            headers={**coordinator, "If-Match": item.headers["etag"]},
        )
        assert minuted.status_code == 200, minuted.text
    decision = client.post(
        f"/api/v1/meetings/agenda-items/{item_id}/decisions",
        json={"text": "Strategy discussion for each child."},
        headers=coordinator,
    )
    assert decision.status_code == 201, decision.text
    return {
        "meeting": f"/api/v1/meetings/occurrences/{meeting['id']}",
        "agenda": f"/api/v1/meetings/occurrences/{meeting['id']}/agenda",
        "attendance": f"/api/v1/meetings/occurrences/{meeting['id']}/attendance",
        "minutes": f"/api/v1/meetings/agenda-items/{item_id}/decisions",
    }


def test_roleless_token_of_an_absent_agency_cannot_read_the_agenda(client, tokens):
    urls = mace_with_an_absent_youth_service(client, tokens)
    # Refused before any record is looked at: nothing tells it the meeting exists.
    roleless = tokens.headers(**YOUTH, roles=[])
    for name, url in urls.items():
        refused = client.get(url, headers=roleless)
        assert refused.status_code == 403, (name, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert str(CHILDREN[0]) not in refused.text
        unknown = client.get(re.sub(UUID, str(uuid.uuid4()), url), headers=roleless)
        assert unknown.status_code == 403, name
    # A referrer of the absent agency, and a roleless token of an agency that chairs
    # meetings, read nothing either.
    for caller in (tokens.headers(**YOUTH, roles=["referrer"]), tokens.headers(**CHAIR_AGENCY, roles=[])):
        assert client.get(urls["agenda"], headers=caller).status_code == 403


def test_absent_agency_case_worker_still_reads_the_agenda_it_was_invited_to(client, tokens):
    urls = mace_with_an_absent_youth_service(client, tokens)
    youth_worker = tokens.headers(**YOUTH, roles=["practitioner"])
    agenda = client.get(urls["agenda"], headers=youth_worker)
    assert agenda.status_code == 200, agenda.text
    assert agenda.json()["next_cursor"] is None
    assert sorted(c for item in agenda.json()["items"] for c in item["child_ids"]) == sorted(
        str(c) for c in CHILDREN
    )
    assert {item["minutes"] for item in agenda.json()["items"]} == {
        "Police shared intelligence; plan agreed."
    }
    attendance = client.get(urls["attendance"], headers=youth_worker)
    assert attendance.status_code == 200, attendance.text
    assert {a["status"] for a in attendance.json()["attendees"] if a["agency"] == "sheffield-youth"} == {
        "absent"
    }
    minutes = client.get(urls["minutes"], headers=youth_worker)
    assert minutes.status_code == 200, minutes.text
    assert [d["text"] for d in minutes.json()["items"]] == ["Strategy discussion for each child."]
    # Each child on the agenda is an audited read by the youth worker.
    log = client.get(
        f"/api/v1/meetings/children/{CHILDREN[0]}/access-log", headers=tokens.headers(**AUDITOR)
    ).json()["items"]
    assert any(e["actor_agency"] == "sheffield-youth" and e["outcome"] == "allowed" for e in log)


def test_uninvited_agency_case_worker_gets_404_for_agenda_attendance_and_minutes(client, tokens):
    urls = mace_with_an_absent_youth_service(client, tokens)
    # A school not on the list, and the MASH health team: all_cases is not chairs_meetings.
    for caller in (SCHOOL_WORKER, HEALTH_WORKER):
        for name, url in urls.items():
            refused = client.get(url, headers=tokens.headers(**caller))
            assert refused.status_code == 404, (caller["agency"], name, refused.text)
            assert refused.headers["content-type"] == PROBLEM
            assert str(CHILDREN[0]) not in refused.text
    # Each refusal is in the children's access history.
    log = client.get(
        f"/api/v1/meetings/children/{CHILDREN[29]}/access-log", headers=tokens.headers(**AUDITOR)
    ).json()["items"]
    denied = {(e["actor_agency"], e["resource_type"]) for e in log if e["outcome"] == "denied"}
    assert denied == {
        (agency, resource)
        for agency in ("sheffield-schools", "sheffield-health")
        for resource in ("occurrence", "agenda", "attendance", "decisions")
    }
    # The chairing agencies' case workers read every meeting without being on its list.
    police = tokens.headers(agency="south-yorkshire-police", agency_type="police", roles=["practitioner"])
    for name, url in urls.items():
        assert client.get(url, headers=police).status_code == 200, name


def test_health_team_without_chairs_meetings_cannot_schedule_a_meeting(client, tokens):
    health = tokens.headers(**HEALTH_COORDINATOR)
    refused = client.post("/api/v1/meetings/series", json=series_body(), headers=health)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert "chairs_meetings" in refused.json()["detail"]
    urls = mace_with_an_absent_youth_service(client, tokens)
    assert client.post(f"{urls['meeting']}/agenda/generate", headers=health).status_code == 403
    assert client.post(f"{urls['meeting']}/held", headers={**health, "If-Match": '"1"'}).status_code == 403
    assert client.get("/api/v1/meetings/series", headers=tokens.headers(**HEALTH_WORKER)).status_code == 403
