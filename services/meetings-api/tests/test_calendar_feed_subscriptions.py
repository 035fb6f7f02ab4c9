"""Calendar subscriptions (issue 16): calendar apps cannot send a bearer token, so a person
who may see meeting series creates a feed address holding a secret token, shown once and
stored only as its SHA-256. A calendar app reads the address with no token; the feed
carries the VTIMEZONE of Europe/London it names, so a weekly 10:00 meeting stays at 10:00
London time across the clock change (09:00Z in summer, 10:00Z in winter). The owner lists
and revokes their feeds, an admin of their agency may too, nobody else can see them; each
read is audited under the owner's name with the feed's id, and re-checked against the
policy and the partnership agreement as they are now: a revoked, expired or guessed
address, or one whose owner's agency left the agreement or no longer chairs meetings, is
404 problem+json like an address never issued."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrulestr
from icalendar import Calendar
from meetings_scenarios import COORDINATOR, PROBLEM, series_body
from sqlalchemy import create_engine, select, update

from meetings_api.calendar_feeds.models import CalendarFeed
from meetings_api.database import AUDIT
from safeguarding_kit.db import normalise_url
from safeguarding_kit.partnership.capacities import Capacity

COUNCIL_WORKER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner"],
    "sub": "jo.worker@sheffield-social-care",
}
COLLEAGUE = {**COUNCIL_WORKER, "sub": "sam.colleague@sheffield-social-care"}
COUNCIL_ADMIN = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["admin"],
    "sub": "it.admin@sheffield-social-care",
}
POLICE_WORKER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
POLICE_ADMIN = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["admin"]}
SCHOOL_WORKER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}
FEEDS = "/api/v1/meetings/calendar-feeds"


def weekly_mace(client, tokens, **overrides) -> dict:
    """Wednesdays at 10:00 London time from 3 March 2027: across the spring clock change
    (28 March 2027) and the autumn one (31 October 2027)."""
    response = client.post(
        "/api/v1/meetings/series", json=series_body(**overrides), headers=tokens.headers(**COORDINATOR)
    )
    assert response.status_code == 201, response.text
    return response.json()


def subscribe(client, tokens, who=COUNCIL_WORKER, **body) -> dict:
    body = {"label": "MACE on my phone", **body}
    response = client.post(FEEDS, json=body, headers=tokens.headers(**who))
    assert response.status_code == 201, response.text
    return response.json()


def feed_address(feed: dict) -> str:
    """The path of the feed's url, as the gateway passes it on."""
    return feed["url"].removeprefix("http://127.0.0.1:8080")


def meetings_in_utc(calendar: Calendar, series_id: str, count: int) -> list[datetime]:
    """The first ``count`` meetings of the series' rule, placed in time by the VTIMEZONE the
    feed carries (not by this machine's own copy of the zone)."""
    [london] = [tz for tz in calendar.walk("VTIMEZONE") if tz["TZID"] == "Europe/London"]
    as_the_feed_says = london.to_tz(lookup_tzid=False)
    [master] = [e for e in calendar.walk("VEVENT") if "RRULE" in e and str(e["UID"]).startswith(series_id)]
    assert master["DTSTART"].params["TZID"] == "Europe/London"
    wall_clock = master["DTSTART"].dt.replace(tzinfo=None)
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=wall_clock)
    return [local.replace(tzinfo=as_the_feed_says).astimezone(UTC) for local in list(rule[:count])]


def audit_rows(database_url: str, action: str = "read") -> list:
    """The audit records of calendar feeds for ``action``, oldest first."""
    log = AUDIT.log
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            select(log)
            .where(log.c.resource_type == "calendar_feed", log.c.action == action)
            .order_by(log.c.seq)
        ).all()
    engine.dispose()
    return list(rows)


def stored_feed(database_url: str, feed_id: str) -> CalendarFeed:
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        row = connection.execute(select(CalendarFeed).where(CalendarFeed.id == uuid.UUID(feed_id))).one()
    engine.dispose()
    return row


def assert_no_such_feed(answer) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == "urn:safeguarding:problem:calendar-feed-not-found"
    assert answer.json()["detail"] == "There is no calendar feed at this address."


def without_agency(agreement, slug: str):
    return dataclasses.replace(agreement, agencies=tuple(a for a in agreement.agencies if a.slug != slug))


def without_capacity(agreement, slug: str, capacity: Capacity):
    return dataclasses.replace(
        agreement,
        agencies=tuple(
            dataclasses.replace(a, capacities=a.capacities - {capacity}) if a.slug == slug else a
            for a in agreement.agencies
        ),
    )


def test_a_council_worker_subscribes_and_a_calendar_app_reads_the_feed_without_a_token(client, tokens):
    series = weekly_mace(client, tokens)
    feed = subscribe(client, tokens, series_ids=[series["id"]])

    assert feed["url"].startswith("http://127.0.0.1:8080/api/v1/meetings/calendar-feeds/")
    assert feed["url"].endswith(".ics")
    answer = client.get(feed_address(feed))  # a calendar app: no Authorization header

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "no-store" in answer.headers["cache-control"]
    calendar = Calendar.from_ical(answer.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert calendar.get_missing_tzids() == set()
    assert str(calendar["X-WR-CALNAME"]) == "MACE on my phone"


def test_a_weekly_10am_meeting_stays_at_10_london_time_across_both_clock_changes(client, tokens):
    series = weekly_mace(client, tokens)
    calendar = Calendar.from_ical(client.get(feed_address(subscribe(client, tokens))).content)

    meetings = meetings_in_utc(calendar, series["id"], 40)
    by_day = {m.date().isoformat(): m.strftime("%H:%MZ") for m in meetings}

    # Spring: the clocks go forward on Sunday 28 March 2027.
    assert by_day["2027-03-24"] == "10:00Z"  # GMT
    assert by_day["2027-03-31"] == "09:00Z"  # BST
    # Autumn: the clocks go back on Sunday 31 October 2027.
    assert by_day["2027-10-27"] == "09:00Z"  # BST
    assert by_day["2027-11-03"] == "10:00Z"  # GMT


def test_the_signed_in_series_calendar_carries_its_vtimezone_too(client, tokens):
    series = weekly_mace(client, tokens)
    answer = client.get(
        f"/api/v1/meetings/series/{series['id']}/calendar.ics", headers=tokens.headers(**COUNCIL_WORKER)
    )

    calendar = Calendar.from_ical(answer.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    by_day = {m.date().isoformat(): m.strftime("%H:%MZ") for m in meetings_in_utc(calendar, series["id"], 6)}
    assert (by_day["2027-03-24"], by_day["2027-03-31"]) == ("10:00Z", "09:00Z")


def test_the_address_is_shown_once_and_only_the_hash_of_its_token_is_kept(client, tokens, database_url):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    token = feed_address(feed).removeprefix(f"{FEEDS}/").removesuffix(".ics")

    listed = client.get(FEEDS, headers=tokens.headers(**COUNCIL_WORKER))

    assert listed.status_code == 200
    [mine] = listed.json()["items"]
    assert mine["id"] == feed["id"]
    assert "url" not in mine
    assert token not in listed.text
    stored = stored_feed(database_url, feed["id"])
    assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(tuple(stored))
    assert len(token) == 43


def test_the_owner_sees_when_their_feed_was_last_read(client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    assert (
        client.get(FEEDS, headers=tokens.headers(**COUNCIL_WORKER)).json()["items"][0]["last_used_at"] is None
    )

    client.get(feed_address(feed))

    [listed] = client.get(FEEDS, headers=tokens.headers(**COUNCIL_WORKER)).json()["items"]
    assert listed["last_used_at"] is not None


def test_a_revoked_feed_is_404_problem_from_then_on(client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    assert client.get(feed_address(feed)).status_code == 200

    revoked = client.delete(f"{FEEDS}/{feed['id']}", headers=tokens.headers(**COUNCIL_WORKER))

    assert revoked.status_code == 204
    assert_no_such_feed(client.get(feed_address(feed)))
    again = client.delete(f"{FEEDS}/{feed['id']}", headers=tokens.headers(**COUNCIL_WORKER))
    assert again.status_code == 204
    [listed] = client.get(FEEDS, headers=tokens.headers(**COUNCIL_WORKER)).json()["items"]
    assert listed["revoked_at"] is not None


def test_a_guessed_or_malformed_token_is_404_problem_like_a_revoked_one(client, tokens):
    weekly_mace(client, tokens)
    subscribe(client, tokens)

    for guess in (secrets.token_urlsafe(32), "nonsense", "A" * 43, "x" * 2000):
        assert_no_such_feed(client.get(f"{FEEDS}/{guess}.ics"))


def test_a_feed_answers_without_a_token_even_when_one_is_sent(client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)

    sent_junk = client.get(feed_address(feed), headers={"Authorization": "Bearer junk"})

    assert sent_junk.status_code == 200


def test_another_person_can_neither_list_nor_revoke_my_feed(client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)

    for other in (COLLEAGUE, POLICE_WORKER, POLICE_ADMIN):
        listed = client.get(FEEDS, headers=tokens.headers(**other))
        assert listed.status_code == 200
        assert listed.json()["items"] == [], other
        refused = client.delete(f"{FEEDS}/{feed['id']}", headers=tokens.headers(**other))
        assert refused.status_code == 404, other
        assert refused.headers["content-type"] == PROBLEM
    assert client.get(feed_address(feed)).status_code == 200


def test_an_admin_of_the_owners_agency_lists_and_revokes_the_agencys_feeds(client, tokens):
    weekly_mace(client, tokens)
    mine = subscribe(client, tokens)
    colleagues = subscribe(client, tokens, who=COLLEAGUE)
    police = subscribe(client, tokens, who=POLICE_WORKER)
    admin = tokens.headers(**COUNCIL_ADMIN)

    listed = client.get(FEEDS, headers=admin).json()["items"]

    assert {f["id"] for f in listed} == {mine["id"], colleagues["id"]}
    assert {f["owner_sub"] for f in listed} == {COUNCIL_WORKER["sub"], COLLEAGUE["sub"]}
    assert client.delete(f"{FEEDS}/{colleagues['id']}", headers=admin).status_code == 204
    assert_no_such_feed(client.get(feed_address(colleagues)))
    assert client.get(feed_address(mine)).status_code == 200
    assert client.delete(f"{FEEDS}/{police['id']}", headers=admin).status_code == 404
    assert client.get(feed_address(police)).status_code == 200


def test_a_person_who_may_not_read_meeting_series_cannot_subscribe(client, tokens):
    series = weekly_mace(client, tokens)

    for who in (SCHOOL_WORKER, COUNCIL_ADMIN):
        refused = client.post(
            FEEDS, json={"label": "Meetings", "series_ids": [series["id"]]}, headers=tokens.headers(**who)
        )
        assert refused.status_code == 403, who
        assert refused.headers["content-type"] == PROBLEM
    assert client.post(FEEDS, json={"label": "Meetings"}).status_code == 401


def test_subscribing_to_a_series_that_does_not_exist_is_422_naming_it(client, tokens):
    series = weekly_mace(client, tokens)

    refused = client.post(
        FEEDS,
        json={"label": "Meetings", "series_ids": [series["id"], str(uuid.UUID(int=9))]},
        headers=tokens.headers(**COUNCIL_WORKER),
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert [e["pointer"] for e in refused.json()["errors"]] == ["#/series_ids/1"]


def test_a_feed_of_every_series_includes_series_created_later(client, tokens):
    first = weekly_mace(client, tokens)
    everything = subscribe(client, tokens)
    only_first = subscribe(client, tokens, series_ids=[first["id"]])
    later = weekly_mace(client, tokens, title="Sheffield CETG", meeting_type="CETG")

    every_uid = {
        str(e["UID"]) for e in Calendar.from_ical(client.get(feed_address(everything)).content).walk("VEVENT")
    }
    first_uid = {
        str(e["UID"]) for e in Calendar.from_ical(client.get(feed_address(only_first)).content).walk("VEVENT")
    }

    assert {f"{first['id']}@safeguarding-platform", f"{later['id']}@safeguarding-platform"} <= every_uid
    assert first_uid == {f"{first['id']}@safeguarding-platform"}


def test_the_feed_stops_when_the_owners_agency_leaves_the_agreement(app, client, tokens, database_url):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    assert client.get(feed_address(feed)).status_code == 200

    app.state.agreement = without_agency(app.state.agreement, "sheffield-social-care")

    assert_no_such_feed(client.get(feed_address(feed)))
    refusal = audit_rows(database_url)[-1]
    assert (refusal.outcome, refusal.resource_id) == ("denied", feed["id"])


def test_the_feed_stops_when_the_owners_agency_no_longer_chairs_meetings(app, client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)

    app.state.agreement = without_capacity(
        app.state.agreement, "sheffield-social-care", Capacity.chairs_meetings
    )

    assert_no_such_feed(client.get(feed_address(feed)))
    # The owner may still find and revoke it.
    [listed] = client.get(FEEDS, headers=tokens.headers(**COUNCIL_WORKER)).json()["items"]
    assert listed["id"] == feed["id"]
    assert client.delete(f"{FEEDS}/{feed['id']}", headers=tokens.headers(**COUNCIL_WORKER)).status_code == 204


def test_the_feed_stops_when_the_owners_issuer_may_no_longer_vouch_for_their_agency(app, client, tokens):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)

    agreement = app.state.agreement
    app.state.agreement = dataclasses.replace(
        agreement,
        issuers=tuple(
            dataclasses.replace(b, agencies=tuple(a for a in b.agencies if a != "sheffield-social-care"))
            for b in agreement.issuers
        ),
    )

    assert_no_such_feed(client.get(feed_address(feed)))


def test_an_expired_feed_is_404(client, tokens, database_url):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens, valid_days=1)
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            update(CalendarFeed)
            .where(CalendarFeed.id == uuid.UUID(feed["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()

    assert_no_such_feed(client.get(feed_address(feed)))


def test_each_read_is_audited_under_the_owner_with_the_feed_id_never_the_token(client, tokens, database_url):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    token = feed_address(feed).removeprefix(f"{FEEDS}/").removesuffix(".ics")

    for request_id in ("calendar-app-poll-0001", "calendar-app-poll-0002"):
        assert client.get(feed_address(feed), headers={"X-Request-ID": request_id}).status_code == 200

    reads = audit_rows(database_url)
    assert [(r.action, r.resource_type, r.resource_id, r.outcome) for r in reads] == [
        ("read", "calendar_feed", feed["id"], "allowed")
    ] * 2
    assert [r.request_id for r in reads] == ["calendar-app-poll-0001", "calendar-app-poll-0002"]
    assert {(r.actor_sub, r.actor_agency) for r in reads} == {
        (COUNCIL_WORKER["sub"], "sheffield-social-care")
    }
    assert all(r.child_id is None for r in reads)
    assert not any(token in repr(tuple(r)) for r in reads)


def test_a_guessed_token_leaves_no_audit_record_and_a_revoked_one_is_audited_as_refused(
    client, tokens, database_url
):
    weekly_mace(client, tokens)
    feed = subscribe(client, tokens)
    client.get(f"{FEEDS}/{secrets.token_urlsafe(32)}.ics")
    assert audit_rows(database_url) == []

    client.delete(f"{FEEDS}/{feed['id']}", headers=tokens.headers(**COUNCIL_WORKER))
    client.get(feed_address(feed))

    [refused] = audit_rows(database_url)
    assert (refused.resource_id, refused.outcome, refused.detail) == (
        feed["id"],
        "denied",
        "the feed was revoked",
    )


def test_creating_and_revoking_a_feed_are_audited_too(client, tokens, database_url):
    weekly_mace(client, tokens)
    mine = subscribe(client, tokens)
    colleagues = subscribe(client, tokens, who=COLLEAGUE)

    client.delete(f"{FEEDS}/{mine['id']}", headers=tokens.headers(**COUNCIL_WORKER))
    client.delete(f"{FEEDS}/{colleagues['id']}", headers=tokens.headers(**COUNCIL_ADMIN))

    created = audit_rows(database_url, "create")
    assert [(r.resource_id, r.actor_sub, r.detail) for r in created] == [
        (mine["id"], COUNCIL_WORKER["sub"], "every series"),
        (colleagues["id"], COLLEAGUE["sub"], "every series"),
    ]
    revoked = audit_rows(database_url, "revoke")
    assert [(r.resource_id, r.actor_sub, r.detail) for r in revoked] == [
        (mine["id"], COUNCIL_WORKER["sub"], "by its owner"),
        (colleagues["id"], COUNCIL_ADMIN["sub"], "by an admin of its agency"),
    ]


def test_the_feed_never_names_a_child(client, tokens):
    series = weekly_mace(client, tokens)
    coordinator = tokens.headers(**COORDINATOR)
    child = uuid.UUID("5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b")
    meeting = client.get(
        f"/api/v1/meetings/series/{series['id']}/occurrences",
        params={"from": "2027-03-01T00:00:00Z", "to": "2027-03-15T00:00:00Z"},
        headers=coordinator,
    ).json()["items"][0]
    item = client.post(
        f"/api/v1/meetings/occurrences/{meeting['id']}/agenda/items",
        json={
            "kind": "child",
            "title": "Flo Example: missing three times",
            "child_ids": [str(child)],
            "reason": "Flo Example seen with older males",
        },
        headers=coordinator,
    )
    assert item.status_code == 201, item.text
    moved = client.post(
        f"/api/v1/meetings/occurrences/{meeting['id']}/reschedule",
        json={"starts_at_local": "2027-03-04T14:00:00", "scope": "this"},
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text

    text = client.get(feed_address(subscribe(client, tokens))).text

    assert "Agenda: 1 items" in text
    assert str(child) not in text
    assert "Flo" not in text
    assert "Example" not in text


def test_a_person_has_at_most_20_live_feeds_and_revoking_one_makes_room(client, tokens):
    weekly_mace(client, tokens)
    feeds = [subscribe(client, tokens, label=f"Device {n}") for n in range(20)]

    refused = client.post(FEEDS, json={"label": "One more"}, headers=tokens.headers(**COUNCIL_WORKER))

    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:safeguarding:problem:too-many-calendar-feeds"
    assert subscribe(client, tokens, who=COLLEAGUE)["owner_sub"] == COLLEAGUE["sub"]
    client.delete(f"{FEEDS}/{feeds[0]['id']}", headers=tokens.headers(**COUNCIL_WORKER))
    assert subscribe(client, tokens, label="Replacement")["label"] == "Replacement"
