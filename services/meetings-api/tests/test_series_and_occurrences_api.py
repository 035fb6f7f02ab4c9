"""A coordinator scheduling MACE: the series, its meetings, moves, cancellations, quorum."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from meetings_scenarios import COORDINATOR, LONDON, POLICE, PROBLEM, YOUTH_WORKER, series_body


def create_series(client, tokens, **overrides):
    response = client.post(
        "/api/v1/meetings/series", json=series_body(**overrides), headers=tokens.headers(**COORDINATOR)
    )
    assert response.status_code == 201, response.text
    return response.json()


def occurrences(client, tokens, series_id, start="2027-03-01T00:00:00Z", end="2027-04-15T00:00:00Z"):
    """Every meeting in the window, read page by page."""
    listed, cursor = [], None
    while True:
        response = client.get(
            f"/api/v1/meetings/series/{series_id}/occurrences",
            params={"from": start, "to": end, **({"cursor": cursor} if cursor else {})},
            headers=tokens.headers(**POLICE),
        )
        assert response.status_code == 200, response.text
        listed += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return listed


def test_weekly_mace_meetings_are_generated_on_demand_with_stable_ids(client, tokens):
    series = create_series(client, tokens)
    first = occurrences(client, tokens, series["id"])
    again = occurrences(client, tokens, series["id"])
    assert [o["id"] for o in first] == [o["id"] for o in again]
    assert [o["starts_at"][:16] for o in first][:5] == [
        "2027-03-03T10:00",
        "2027-03-10T10:00",
        "2027-03-17T10:00",
        "2027-03-24T10:00",
        "2027-03-31T09:00",
    ]


def test_a_rule_that_is_not_rfc_5545_is_refused_with_its_field(client, tokens):
    response = client.post(
        "/api/v1/meetings/series",
        json=series_body(rrule="EVERY WEDNESDAY"),
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/rrule"


def test_a_start_with_an_offset_is_refused_because_times_are_wall_clock(client, tokens):
    response = client.post(
        "/api/v1/meetings/series",
        json=series_body(first_meeting_local="2027-03-03T10:00:00Z"),
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/first_meeting_local"


def test_moving_one_meeting_leaves_the_others(client, tokens):
    series = create_series(client, tokens)
    meetings = occurrences(client, tokens, series["id"])
    target = meetings[1]
    moved = client.post(
        f"/api/v1/meetings/occurrences/{target['id']}/reschedule",
        json={"starts_at_local": "2027-03-11T14:00:00", "scope": "this"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"][:16] == "2027-03-11T14:00"
    after = occurrences(client, tokens, series["id"])
    assert [o["starts_at"][:10] for o in after][:3] == ["2027-03-03", "2027-03-11", "2027-03-17"]


def test_moving_this_and_following_continues_the_series_at_the_new_time(client, tokens):
    series = create_series(client, tokens)
    meetings = occurrences(client, tokens, series["id"])
    pivot = meetings[2]
    moved = client.post(
        f"/api/v1/meetings/occurrences/{pivot['id']}/reschedule",
        json={"starts_at_local": "2027-03-18T14:00:00", "scope": "following"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["id"] == pivot["id"]  # the meeting keeps its identity (and agenda)
    after = occurrences(client, tokens, series["id"])
    local_days = [o["starts_at"][:10] for o in after][:5]
    assert local_days == ["2027-03-03", "2027-03-10", "2027-03-18", "2027-03-25", "2027-04-01"]
    assert len({o["id"] for o in after}) == len(after)


def test_cancelling_one_meeting_needs_if_match_and_keeps_it_listed_as_cancelled(client, tokens):
    series = create_series(client, tokens)
    target = occurrences(client, tokens, series["id"])[0]
    url = f"/api/v1/meetings/occurrences/{target['id']}/cancel"
    assert (
        client.post(url, json={"reason": "Chair ill"}, headers=tokens.headers(**COORDINATOR)).status_code
        == 428
    )
    cancelled = client.post(
        url, json={"reason": "Chair ill"}, headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'}
    )
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(
        url, json={"reason": "Chair ill"}, headers={**tokens.headers(**COORDINATOR), "If-Match": '"2"'}
    )
    assert again.status_code == 409


def test_quorum_needs_social_care_police_and_health_present(client, tokens):
    series = create_series(client, tokens)
    target = occurrences(client, tokens, series["id"])[0]
    attendees = [
        {
            "agency": "sheffield-social-care",
            "agency_type": "social_care",
            "person_name": "Jo Chair",
            "status": "present",
        },
        {
            "agency": "south-yorkshire-police",
            "agency_type": "police",
            "person_name": "DS Lee",
            "status": "present",
        },
        {
            "agency": "sheffield-health",
            "agency_type": "health",
            "person_name": "Sam Nurse",
            "status": "apologies",
        },
    ]
    url = f"/api/v1/meetings/occurrences/{target['id']}/attendance"
    first = client.put(url, json={"attendees": attendees}, headers=tokens.headers(**COORDINATOR)).json()
    assert (first["quorate"], first["missing_for_quorum"]) == (False, ["health"])
    attendees[2]["status"] = "present"
    second = client.put(url, json={"attendees": attendees}, headers=tokens.headers(**COORDINATOR)).json()
    assert second["quorate"] is True


def test_only_coordinators_schedule_and_outsiders_see_nothing(client, tokens):
    response = client.post("/api/v1/meetings/series", json=series_body(), headers=tokens.headers(**POLICE))
    assert response.status_code == 403
    outsider = client.get("/api/v1/meetings/series", headers=tokens.headers(**YOUTH_WORKER))
    assert outsider.status_code == 403
    assert outsider.headers["content-type"] == PROBLEM


def test_a_tuesday_mace_across_the_october_clock_change_round_trips_through_its_ics_feed(client, tokens):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr
    from icalendar import Calendar

    london = ZoneInfo("Europe/London")
    series = create_series(
        client, tokens, first_meeting_local="2027-10-05T10:00:00", rrule="FREQ=WEEKLY;BYDAY=TU"
    )
    window = {"start": "2027-10-01T00:00:00Z", "end": "2027-11-30T00:00:00Z"}
    meetings = occurrences(client, tokens, series["id"], **window)
    assert [m["starts_at"][:16] for m in meetings][:6] == [
        "2027-10-05T09:00",
        "2027-10-12T09:00",
        "2027-10-19T09:00",
        "2027-10-26T09:00",  # BST: 10:00 local
        "2027-11-02T10:00",
        "2027-11-09T10:00",
    ]  # GMT after 31 October: still 10:00 local
    coordinator = tokens.headers(**COORDINATOR)
    client.post(
        f"/api/v1/meetings/occurrences/{meetings[2]['id']}/reschedule",
        headers={**coordinator, "If-Match": '"1"'},
        json={"starts_at_local": "2027-10-20T14:00:00", "scope": "this"},
    )
    client.post(
        f"/api/v1/meetings/occurrences/{meetings[5]['id']}/cancel",
        headers={**coordinator, "If-Match": '"1"'},
        json={"reason": "Training day", "scope": "this"},
    )
    expected = sorted(
        m["starts_at"]
        for m in occurrences(client, tokens, series["id"], **window)
        if m["status"] == "scheduled"
    )

    feed = client.get(f"/api/v1/meetings/series/{series['id']}/calendar.ics", headers=coordinator)
    calendar = Calendar.from_ical(feed.content)
    [master] = [e for e in calendar.walk("VEVENT") if "RRULE" in e]
    start = master.decoded("dtstart")
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    excluded = {
        d.dt.replace(tzinfo=None)
        for x in master.get("EXDATE", [])
        for d in (x.dts if hasattr(x, "dts") else [x])
    }
    moved = [e.decoded("dtstart") for e in calendar.walk("VEVENT") if "RECURRENCE-ID" in e]
    window_start, window_end = datetime(2027, 10, 1), datetime(2027, 11, 30)
    from_feed = [
        local.replace(tzinfo=london)
        for local in rule.between(window_start, window_end, inc=True)
        if local not in excluded
    ] + [m for m in moved if window_start.replace(tzinfo=UTC) <= m]
    as_text = sorted(m.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for m in from_feed)
    assert as_text == [e.replace("+00:00", "Z") for e in expected]
    assert timedelta(minutes=120) == master.decoded("duration")


def test_a_long_window_of_meetings_is_read_in_time_order_a_page_at_a_time(client, tokens):
    series = create_series(client, tokens)
    window = {"from": "2027-03-01T00:00:00Z", "to": "2028-03-01T00:00:00Z"}
    url = f"/api/v1/meetings/series/{series['id']}/occurrences"
    first = client.get(url, params=window, headers=tokens.headers(**POLICE)).json()
    assert len(first["items"]) == 25
    assert first["next_cursor"]
    everything = occurrences(client, tokens, series["id"], start=window["from"], end=window["to"])
    assert len(everything) == 52
    assert [o["id"] for o in everything[:25]] == [o["id"] for o in first["items"]]
    assert [o["starts_at"] for o in everything] == sorted(o["starts_at"] for o in everything)
    too_many = client.get(url, params={**window, "limit": 101}, headers=tokens.headers(**POLICE))
    assert too_many.status_code == 422


def test_asking_for_more_than_400_days_of_a_never_ending_series_is_refused(client, tokens):
    series = create_series(client, tokens)
    response = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        params={"from": "2027-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"},
        headers=tokens.headers(**POLICE),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "to"


def test_an_unknown_agency_type_in_the_quorum_is_refused_and_nothing_written(client, tokens):
    response = client.post(
        "/api/v1/meetings/series",
        json=series_body(quorum_agency_types=["army"]),
        headers=tokens.headers(**COORDINATOR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/quorum_agency_types/0"
    assert client.get("/api/v1/meetings/series", headers=tokens.headers(**POLICE)).json()["items"] == []


def test_moving_all_upcoming_meetings_moves_every_one_to_the_new_time(client, tokens):
    series = create_series(client, tokens)
    meetings = occurrences(client, tokens, series["id"])
    moved = client.post(
        f"/api/v1/meetings/occurrences/{meetings[2]['id']}/reschedule",
        json={"starts_at_local": "2027-03-17T14:00:00", "scope": "all"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text
    after = occurrences(client, tokens, series["id"])
    # Every meeting, from the first upcoming one, is now at 14:00 London time on its own day.
    assert [o["starts_at"][:16] for o in after][:6] == [
        "2027-03-03T14:00",
        "2027-03-10T14:00",
        "2027-03-17T14:00",
        "2027-03-24T14:00",
        "2027-03-31T13:00",  # BST from 28 March: still 14:00 local
        "2027-04-07T13:00",
    ]
    assert [o["id"] for o in after][:3] == [m["id"] for m in meetings][:3]  # agendas go with them


def test_cancelling_this_and_following_ends_the_series_there(client, tokens):
    series = create_series(client, tokens)
    meetings = occurrences(client, tokens, series["id"])
    cancelled = client.post(
        f"/api/v1/meetings/occurrences/{meetings[3]['id']}/cancel",
        json={"reason": "MACE merges with the county panel", "scope": "following"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert cancelled.status_code == 200, cancelled.text
    after = occurrences(client, tokens, series["id"])
    scheduled = [o["starts_at"][:10] for o in after if o["status"] == "scheduled"]
    assert scheduled == ["2027-03-03", "2027-03-10", "2027-03-17"]
    assert all(
        o["cancel_reason"] == "MACE merges with the county panel" for o in after if o["status"] != "scheduled"
    )
    later = occurrences(
        client, tokens, series["id"], start="2027-06-01T00:00:00Z", end="2027-09-01T00:00:00Z"
    )
    assert [o for o in later if o["status"] == "scheduled"] == []


def test_cancelling_all_upcoming_meetings_leaves_none_scheduled(client, tokens):
    series = create_series(client, tokens)
    meetings = occurrences(client, tokens, series["id"])
    cancelled = client.post(
        f"/api/v1/meetings/occurrences/{meetings[4]['id']}/cancel",
        json={"reason": "Replaced by the new MACE", "scope": "all"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert [o for o in occurrences(client, tokens, series["id"]) if o["status"] == "scheduled"] == []


def test_an_agency_attending_a_meeting_reads_it_and_one_not_attending_gets_404(client, tokens):
    series = create_series(client, tokens)
    meeting = occurrences(client, tokens, series["id"])[0]
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
            "status": "present",
        },
    ]
    recorded = client.put(
        f"/api/v1/meetings/occurrences/{meeting['id']}/attendance",
        json={"attendees": attendees},
        headers=tokens.headers(**COORDINATOR),
    )
    assert recorded.status_code == 200, recorded.text
    school = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}
    for path in ("", "/agenda", "/attendance"):
        url = f"/api/v1/meetings/occurrences/{meeting['id']}{path}"
        assert client.get(url, headers=tokens.headers(**YOUTH_WORKER)).status_code == 200, path
        refused = client.get(url, headers=tokens.headers(**school))
        assert refused.status_code == 404, path
        assert refused.headers["content-type"] == PROBLEM
    # Attending one meeting opens that meeting only, not the next one in the series.
    following = occurrences(client, tokens, series["id"])[1]
    response = client.get(
        f"/api/v1/meetings/occurrences/{following['id']}", headers=tokens.headers(**YOUTH_WORKER)
    )
    assert response.status_code == 404


def test_decisions_on_an_item_are_recorded_by_the_coordinator_and_read_in_order(client, tokens):
    series = create_series(client, tokens)
    meeting = occurrences(client, tokens, series["id"])[0]
    item = client.post(
        f"/api/v1/meetings/occurrences/{meeting['id']}/agenda/items",
        json={"kind": "other", "title": "Hotel watch scheme", "reason": "Police request"},
        headers=tokens.headers(**COORDINATOR),
    ).json()
    url = f"/api/v1/meetings/agenda-items/{item['id']}/decisions"
    for text in ("Escalate to a strategy discussion.", "Police to visit the hotel this week."):
        recorded = client.post(url, json={"text": text}, headers=tokens.headers(**COORDINATOR))
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"] == COORDINATOR["sub"]
    listed = client.get(url, headers=tokens.headers(**POLICE)).json()
    assert listed["next_cursor"] is None
    assert [d["text"] for d in listed["items"]] == [
        "Escalate to a strategy discussion.",
        "Police to visit the hotel this week.",
    ]
    refused = client.post(url, json={"text": "Close the case."}, headers=tokens.headers(**POLICE))
    assert refused.status_code == 403  # only the meeting's coordinators minute it
    assert refused.headers["content-type"] == PROBLEM
    assert len(client.get(url, headers=tokens.headers(**POLICE)).json()["items"]) == 2
    first = client.get(url, params={"limit": 1}, headers=tokens.headers(**POLICE)).json()
    second = client.get(
        url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=tokens.headers(**POLICE)
    ).json()
    assert [d["text"] for d in first["items"] + second["items"]] == [d["text"] for d in listed["items"]]
    assert second["next_cursor"] is None


def read_occurrence(client, tokens, occurrence_id):
    return client.get(f"/api/v1/meetings/occurrences/{occurrence_id}", headers=tokens.headers(**COORDINATOR))


def test_a_meeting_cannot_be_recorded_as_held_before_it_starts(client, tokens):
    series = create_series(client, tokens)
    target = occurrences(client, tokens, series["id"])[0]  # 10:00 on Wednesday 3 March 2027
    refused = client.post(
        f"/api/v1/meetings/occurrences/{target['id']}/held",
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "urn:safeguarding:problem:occurrence-not-started"
    assert "2027-03-03T10:00 Europe/London" in refused.json()["detail"]
    after = read_occurrence(client, tokens, target["id"])
    assert (after.json()["status"], after.headers["etag"]) == ("scheduled", '"1"')


def test_a_meeting_that_has_started_can_be_recorded_as_held(client, tokens):
    first_day = (datetime.now(LONDON) - timedelta(days=8)).date()
    series = create_series(
        client,
        tokens,
        first_meeting_local=f"{first_day.isoformat()}T10:00:00",
        rrule="FREQ=WEEKLY",
        bank_holiday_rule="keep",
    )
    start = datetime.combine(first_day, time(0), tzinfo=LONDON).astimezone(UTC)
    meetings = occurrences(
        client, tokens, series["id"], start.isoformat(), (start + timedelta(days=2)).isoformat()
    )
    held = client.post(
        f"/api/v1/meetings/occurrences/{meetings[0]['id']}/held",
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"'},
    )
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held"


def test_if_match_star_is_refused_because_a_cancellation_must_name_the_version_read(client, tokens):
    series = create_series(client, tokens)
    target = occurrences(client, tokens, series["id"])[0]
    refused = client.post(
        f"/api/v1/meetings/occurrences/{target['id']}/cancel",
        json={"reason": "Chair ill"},
        headers={**tokens.headers(**COORDINATOR), "If-Match": "*"},
    )
    assert refused.status_code == 428
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "urn:safeguarding:problem:if-match-required"
    assert read_occurrence(client, tokens, target["id"]).json()["status"] == "scheduled"


def test_a_move_not_sent_as_json_is_the_documented_400_and_nothing_moves(client, tokens):
    series = create_series(client, tokens)
    target = occurrences(client, tokens, series["id"])[1]
    refused = client.post(
        f"/api/v1/meetings/occurrences/{target['id']}/reschedule",
        content=json.dumps({"starts_at_local": "2027-03-11T14:00:00", "scope": "this"}),
        headers={**tokens.headers(**COORDINATOR), "If-Match": '"1"', "content-type": "text/plain"},
    )
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"] == "urn:safeguarding:problem:unreadable-body"
    assert read_occurrence(client, tokens, target["id"]).json()["starts_at"] == target["starts_at"]
