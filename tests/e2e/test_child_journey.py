"""A child's journey across the real processes (issue 15's acceptance scenario), through the
gateway with real signed tokens: referred by a school, screened and allocated by the hub,
assessed high and discussed at MACE, missing and back with a return-home interview,
supported by the commissioned post-abuse service after 19 days' wait, reassessed medium,
and protected by the police with a child abduction warning notice and later a charge.

The hub reads it all as one chronology, newest first; an agency never linked to the child
reads nothing; the provider's keyworker reads the support but never the police
intelligence; every read is audited. The figures count the wait and the disruption exactly
for the council's analyst and protect them for everyone else. And a chronology catches up
with what the other services said while the referral service was stopped."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from meetings_api.database import EVENTS as MEETINGS_EVENTS
from risk_api.database import EVENTS as RISK_EVENTS
from safeguarding_kit.db import Database
from safeguarding_kit.events import DELIVERED, PENDING
from safeguarding_kit.periods import england_day, england_midnight, financial_quarter_of
from safeguarding_kit.testing import TokenFactory, eventually

pytestmark = pytest.mark.e2e

LONDON = ZoneInfo("Europe/London")
PROBLEM = "application/problem+json"

SCHOOL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
# The MASH's own teams (the agreement grants them all_cases, decides_referrals, intelligence
# and chairs_meetings): the duty worker who screens, assesses and runs MACE, its manager who
# decides, and the case worker who reads the chronology.
HUB = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "risk_assessor", "meeting_coordinator"],
}
HUB_MANAGER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["manager"],
    "sub": "manager@journey.example",
}
HUB_CASE_WORKER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner"],
    "sub": "case.worker@journey.example",
}
POLICE_OFFICER = {
    "agency": "south-yorkshire-police",
    "agency_type": "police",
    "roles": ["practitioner"],
    "sub": "dc.4471@journey.example",
}
# The keyworker of the commissioned post-abuse service (the agreement's `post-abuse-support`,
# provided by Safe Space Sheffield, a voluntary agency with no hub capacity).
KEYWORKER = {
    "agency": "safe-space-sheffield",
    "agency_type": "voluntary",
    "roles": ["practitioner"],
    "sub": "keyworker@journey.example",
}
# An agency of the agreement never linked to the child.
YOUNG_CARERS = {
    "agency": "sheffield-young-carers",
    "agency_type": "voluntary",
    "roles": ["practitioner"],
    "sub": "young.carers@journey.example",
}
# The council's business unit: exact figures and every agency's audit trail.
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}

# Scored by the default risk model: a disclosure is a hard trigger (high); three indicators
# graded 3, 3 and 2 make 8, the default model's medium.
HIGH_ANSWERS = [{"indicator_code": "disclosure_sexual_exploitation", "answer": "present"}]
MEDIUM_ANSWERS = [
    {"indicator_code": "missing_repeat", "answer": "present"},
    {"indicator_code": "given_substances", "answer": "present"},
    {"indicator_code": "unexplained_money", "answer": "present"},
]
WAITED_DAYS = 19


@pytest.fixture(scope="module")
def journey_mace(stack, stack_tokens) -> dict[str, Any]:
    """A weekly MACE the day after tomorrow at 14:00. Later than the events tests' weekly MACE
    (tomorrow at 10:00), so it is never the next MACE while that one exists: the tests below
    find the child on whichever MACE is next rather than assume it is this one."""
    after_tomorrow = (datetime.now(LONDON) + timedelta(days=2)).date()
    response = httpx.post(
        stack.config.gateway_url + "/api/v1/meetings/series",
        timeout=30.0,
        headers=stack_tokens.headers(**HUB),
        json={
            "meeting_type": "MACE",
            "title": "Child journey MACE",
            "chair_agency": "sheffield-social-care",
            "first_meeting_local": f"{after_tomorrow.isoformat()}T14:00:00",
            "rrule": "FREQ=WEEKLY",
            "quorum_agency_types": ["social_care", "police", "health"],
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- the steps, as the people who take them ------------------------------------------------


def every_item(gateway: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> list[dict]:
    """Every item of a paged list."""
    items: list[dict] = []
    cursor = None
    while True:
        page = gateway.get(
            path, params={"limit": 100, **params, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert page.status_code == 200, (path, page.text)
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def refer(gateway: httpx.Client, tokens: TokenFactory, given: str) -> dict[str, Any]:
    response = gateway.post(
        "/api/v1/referrals",
        headers=tokens.headers(**SCHOOL),
        json={
            "child": {
                "given_name": given,
                "family_name": "Journey",
                "date_of_birth": "2011-05-05",
                "gender": "female",
            },
            "referrer": {"name": "Sam Teacher", "role": "Designated Safeguarding Lead"},
            "concern_types": ["sexual_exploitation"],
            "summary": "Seen getting into cars with older men after school.",
            "lawful_basis": {"basis": "consent"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_for_screening(gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> None:
    """The referral's event opened a screening in the risk service (its risk record)."""

    def screening() -> bool:
        risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=tokens.headers(**HUB))
        return risk.status_code == 200 and bool(risk.json()["initial_assessment_due"])

    eventually(screening, "the referral opened a screening in the risk service")


def move(
    gateway: httpx.Client, tokens: TokenFactory, referral: dict[str, Any], who: dict[str, Any], **step: Any
) -> dict[str, Any]:
    response = gateway.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        headers={**tokens.headers(**who), "If-Match": f'"{referral["version"]}"'},
        json=step,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def assess(gateway: httpx.Client, tokens: TokenFactory, child_id: str, answers: list[dict]) -> dict[str, Any]:
    risk = gateway.get(f"/api/v1/risk/children/{child_id}", headers=tokens.headers(**HUB))
    assert risk.status_code == 200, risk.text
    response = gateway.post(
        f"/api/v1/risk/children/{child_id}/assessments",
        headers={**tokens.headers(**HUB), "If-Match": risk.headers["etag"]},
        json={"answers": answers},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def next_occurrence(gateway: httpx.Client, tokens: TokenFactory, series_id: str) -> str | None:
    occurrences = gateway.get(
        f"/api/v1/meetings/series/{series_id}/occurrences", params={"limit": 1}, headers=tokens.headers(**HUB)
    )
    assert occurrences.status_code == 200, occurrences.text
    items = occurrences.json()["items"]
    return str(items[0]["id"]) if items else None


def item_on_the_next_mace(gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> dict | None:
    """The agenda item about the child on the next meeting of any MACE series (the meetings
    service puts a child whose risk became high on the partnership's next MACE)."""
    headers = tokens.headers(**HUB)
    for series in every_item(gateway, "/api/v1/meetings/series", headers):
        if series["meeting_type"] != "MACE":
            continue
        occurrence_id = next_occurrence(gateway, tokens, series["id"])
        if occurrence_id is None:
            continue
        for item in every_item(gateway, f"/api/v1/meetings/occurrences/{occurrence_id}/agenda", headers):
            if child_id in item["child_ids"]:
                return item
    return None


def decide_and_agree_an_action(
    gateway: httpx.Client, tokens: TokenFactory, item_id: str, child_id: str
) -> None:
    """At MACE: a decision on the child's item, and an action for the police about the child."""
    decision = gateway.post(
        f"/api/v1/meetings/agenda-items/{item_id}/decisions",
        headers=tokens.headers(**HUB),
        json={"text": "Strategy discussion under section 47; disruption plan for the car park."},
    )
    assert decision.status_code == 201, decision.text
    action = gateway.post(
        f"/api/v1/meetings/agenda-items/{item_id}/actions",
        headers=tokens.headers(**HUB),
        json={
            "description": "Police to share the disruption plan for the hotel car park.",
            "owner_agency": "south-yorkshire-police",
            "due_date": (date.today() + timedelta(days=14)).isoformat(),
            "child_id": child_id,
        },
    )
    assert action.status_code == 201, action.text


def missing_found_and_interviewed(gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> None:
    """The police report the child missing and found; the hub completes the return-home interview."""
    police = tokens.headers(**POLICE_OFFICER)
    episode = gateway.post(
        "/api/v1/missing-episodes",
        headers=police,
        json={"child_id": child_id, "reported_missing_at": datetime.now(UTC).isoformat()},
    )
    assert episode.status_code == 201, episode.text
    found = gateway.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/found",
        headers={**police, "If-Match": episode.headers["etag"]},
        json={"found_at": datetime.now(UTC).isoformat(), "found_location": "Bus interchange"},
    )
    assert found.status_code == 200, found.text
    interview = gateway.post(
        f"/api/v1/missing-episodes/{episode.json()['id']}/return-home-interview",
        headers={**tokens.headers(**HUB), "If-Match": found.headers["etag"]},
        json={"outcome": "completed", "at": datetime.now(UTC).isoformat(), "notes": "Spoke about the men."},
    )
    assert interview.status_code == 200, interview.text


def post_abuse_support_after_a_wait(
    gateway: httpx.Client, tokens: TokenFactory, child_id: str
) -> tuple[dict[str, Any], datetime]:
    """The hub offers the commissioned post-abuse service, requested 19 days ago (days in
    England, wall-clock arithmetic), and the provider's keyworker starts it now: the
    started support and when it was requested."""
    requested_at = datetime.now(LONDON) - timedelta(days=WAITED_DAYS)
    offer = gateway.post(
        f"/api/v1/children/{child_id}/support",
        headers=tokens.headers(**HUB),
        json={
            "kind": "therapeutic_post_abuse_support",
            "provider": {"service": "post-abuse-support"},
            "requested_at": requested_at.isoformat(),
        },
    )
    assert offer.status_code == 201, offer.text
    assert offer.json()["provider"]["agency"] == "safe-space-sheffield"
    started = gateway.post(
        f"/api/v1/support/{offer.json()['id']}/start",
        headers={**tokens.headers(**KEYWORKER), "If-Match": offer.headers["etag"]},
        json={"started_at": datetime.now(UTC).isoformat()},
    )
    assert started.status_code == 200, started.text
    assert started.json()["waiting_days"] == WAITED_DAYS
    return dict(started.json()), requested_at


def cawn_then_charge(gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> list[str]:
    """The police record a person of concern linked to the child, serve a child abduction
    warning notice on him and later charge him, both today: the two actions' ids."""
    police = tokens.headers(**POLICE_OFFICER)
    person = gateway.post(
        "/api/v1/persons-of-concern",
        headers=police,
        json={"alias": "Shadz", "approximate_age": 24, "gender": "male", "ethnicity": "white_other"},
    )
    assert person.status_code == 201, person.text
    person_id = person.json()["id"]
    linked = gateway.post(
        f"/api/v1/persons-of-concern/{person_id}/links", headers=police, json={"child_id": child_id}
    )
    assert linked.status_code in (200, 201), linked.text
    today = datetime.now(LONDON).date().isoformat()
    common = {"person_of_concern_id": person_id, "action_date": today, "child_ids": [child_id]}
    notice = gateway.post(
        "/api/v1/disruption/actions",
        headers=police,
        json={
            **common,
            "kind": "child_abduction_warning_notice",
            "outcome": "issued",
            "reference": f"SYP-CAWN-{uuid.uuid4().hex[:8]}",
        },
    )
    assert notice.status_code == 201, notice.text
    charge = gateway.post(
        "/api/v1/disruption/actions",
        headers=police,
        json={
            **common,
            "kind": "charge",
            "outcome": "pending",
            "offence_group": "sexual_offences",
            "reference": f"14/{uuid.uuid4().hex[:8]}/26",
        },
    )
    assert charge.status_code == 201, charge.text
    return [str(notice.json()["id"]), str(charge.json()["id"])]


# --- reading it ---------------------------------------------------------------------------


class ChronologyReads:
    """Reads of a child's chronology, counting those answered (each must be audited)."""

    def __init__(self, gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> None:
        self.gateway, self.tokens, self.child_id = gateway, tokens, child_id
        self.answered: Counter[str] = Counter()

    def read(self, who: dict[str, Any]) -> httpx.Response:
        response = self.gateway.get(
            f"/api/v1/children/{self.child_id}/chronology",
            params={"limit": 100},
            headers=self.tokens.headers(**who),
        )
        if response.status_code == 200:
            self.answered[who["sub"]] += 1
        return response

    def entries(self, who: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.read(who)
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None
        return list(response.json()["items"])


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["kind"] for entry in entries]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def access_log(gateway: httpx.Client, tokens: TokenFactory, child_id: str) -> list[dict[str, Any]]:
    """Every access to the child's record in the referral service, as the council's
    information governance auditor reads it."""
    return every_item(gateway, f"/api/v1/children/{child_id}/access-log", tokens.headers(**AUDITOR))


def figures(
    gateway: httpx.Client, tokens: TokenFactory, path: str, who: dict[str, Any], **params: Any
) -> dict:
    response = gateway.get(path, params=params, headers=tokens.headers(**who))
    assert response.status_code == 200, (path, response.text)
    return dict(response.json())


def provider_group(waiting_times: dict[str, Any], provider: str) -> dict[str, Any]:
    (group,) = [g for g in waiting_times["providers"] if g["provider"] == provider]
    return dict(group)


def cell(table: dict[str, Any], **key: str) -> dict[str, Any]:
    (found,) = [c for c in table["cells"] if c["key"] == key]
    return dict(found)


def start_of_this_month() -> datetime:
    today = england_day(datetime.now(UTC))
    return england_midnight(date(today.year, today.month, 1))


# --- the journey --------------------------------------------------------------------------


def test_a_child_s_journey_reads_in_order_to_the_hub_and_to_no_one_else(gateway, stack_tokens, journey_mace):
    began = datetime.now(UTC)
    quarter = financial_quarter_of(england_day(began))
    waits_protected_before = figures(gateway, stack_tokens, "/api/v1/stats/support/waiting-times", HUB)
    disruption_exact_before = figures(gateway, stack_tokens, "/api/v1/stats/disruption", ANALYST)
    disruption_protected_before = figures(gateway, stack_tokens, "/api/v1/stats/disruption", HUB)

    # A school refers Ada; the hub screens the referral and its manager allocates it.
    referral = refer(gateway, stack_tokens, "Ada")
    child_id = referral["child_id"]
    wait_for_screening(gateway, stack_tokens, child_id)
    screened = move(gateway, stack_tokens, referral, HUB, to="screening")
    move(
        gateway,
        stack_tokens,
        screened,
        HUB_MANAGER,
        to="allocated",
        allocated_team="Exploitation Team North",
        allocated_worker="worker-4411",
    )

    # Assessed high: the risk service puts her on the next MACE, which decides and agrees an action.
    assert assess(gateway, stack_tokens, child_id, HIGH_ANSWERS)["final_level"] == "high"
    item = eventually(
        lambda: item_on_the_next_mace(gateway, stack_tokens, child_id), "the child went onto the next MACE"
    )
    decide_and_agree_an_action(gateway, stack_tokens, item["id"], child_id)

    # Missing, found, interviewed; then 19 days after it was asked for, post-abuse support starts.
    missing_found_and_interviewed(gateway, stack_tokens, child_id)
    support, requested_at = post_abuse_support_after_a_wait(gateway, stack_tokens, child_id)

    # Reassessed medium; the police serve a warning notice on the man linked to her, then charge him.
    assert assess(gateway, stack_tokens, child_id, MEDIUM_ANSWERS)["final_level"] == "medium"
    notice_id, charge_id = cawn_then_charge(gateway, stack_tokens, child_id)

    # The hub's case worker reads every step, newest first by when it happened, once the
    # risk and meetings services' events have arrived.
    reads = ChronologyReads(gateway, stack_tokens, child_id)
    journey = [
        "disruption_recorded",  # the charge
        "disruption_recorded",  # the warning notice
        "risk_level_changed",  # high -> medium (announced just after its assessment)
        "risk_assessed",  # medium
        "support_started",
        "return_home_interview",
        "missing_found",
        "missing_reported",
        "meeting_action_agreed",
        "meeting_decision",
        "risk_level_changed",  # -> high
        "risk_assessed",  # high
        "referral_status_changed",  # screening -> allocated
        "referral_status_changed",  # received -> screening
        "referral_received",
        "support_offered",  # placed when it was requested, 19 days back
    ]

    def whole_journey() -> list[dict[str, Any]] | None:
        entries = reads.entries(HUB_CASE_WORKER)
        return entries if kinds(entries) == journey else None

    entries = eventually(whole_journey, "the hub's chronology showed every step of the journey", seconds=30)
    moments = [moment(e["occurred_at"]) for e in entries]
    assert moments == sorted(moments, reverse=True)

    by_kind = {e["kind"]: e for e in reversed(entries)}  # the newest of each kind wins
    offered, started = by_kind["support_offered"], by_kind["support_started"]
    assert moment(offered["occurred_at"]) == requested_at
    assert moments[-1] < moment(by_kind["referral_received"]["occurred_at"])
    assert england_day(moment(started["occurred_at"])) - england_day(moment(offered["occurred_at"])) == (
        timedelta(days=WAITED_DAYS)
    )
    assert started["details"]["waiting_days"] == WAITED_DAYS
    assert started["record"] == {
        "type": "support",
        "id": support["id"],
        "href": f"/api/v1/support/{support['id']}",
    }
    assert by_kind["risk_assessed"]["details"]["level"] == "medium"
    assert by_kind["risk_level_changed"]["details"] == {"child_id": child_id, "from": "high", "to": "medium"}
    assert by_kind["return_home_interview"]["details"]["outcome"] == "completed"
    assert {by_kind[k]["source"] for k in ("meeting_decision", "meeting_action_agreed")} == {"meetings-api"}
    assert by_kind["meeting_decision"]["details"]["agenda_item_id"] == item["id"]
    assert [e["record"]["id"] for e in entries[:2]] == [charge_id, notice_id]
    assert [e["details"]["kind"] for e in entries[:2]] == ["charge", "child_abduction_warning_notice"]
    assert all(
        e["source"] == "referral-api" for e in entries if e["kind"].startswith(("referral", "support"))
    )

    # An agency never linked to her reads nothing, as if she did not exist.
    stranger = reads.read(YOUNG_CARERS)
    assert stranger.status_code == 404
    assert stranger.headers["content-type"] == PROBLEM

    # The provider's keyworker sees the support, never the police intelligence.
    provider_view = reads.entries(KEYWORKER)
    assert "disruption_recorded" not in kinds(provider_view)
    assert kinds(provider_view) == [k for k in journey if k != "disruption_recorded"]  # the support too
    for action_id in (notice_id, charge_id):
        refused = gateway.get(
            f"/api/v1/disruption/actions/{action_id}", headers=stack_tokens.headers(**KEYWORKER)
        )
        assert refused.status_code in (403, 404), refused.text

    # Each read is audited as a read of the child; the stranger's refusal too.
    log = access_log(gateway, stack_tokens, child_id)
    chronology_reads = Counter(
        e["actor_sub"]
        for e in log
        if (e["resource_type"], e["action"], e["outcome"]) == ("chronology", "read", "allowed")
    )
    assert chronology_reads == reads.answered
    assert set(reads.answered) == {HUB_CASE_WORKER["sub"], KEYWORKER["sub"]}
    assert any(
        (e["actor_sub"], e["action"], e["outcome"]) == (YOUNG_CARERS["sub"], "read", "denied") for e in log
    )

    # The council's analyst counts her wait exactly: a window from when this test began holds
    # this one start only.
    waits = figures(
        gateway, stack_tokens, "/api/v1/stats/support/waiting-times", ANALYST, **{"from": began.isoformat()}
    )
    assert waits["exact"] is True
    post_abuse = provider_group(waits, "post-abuse-support")
    assert (post_abuse["started"]["count"], post_abuse["median_days"], post_abuse["p90_days"]) == (
        1,
        WAITED_DAYS,
        WAITED_DAYS,
    )
    assert (waits["all_providers"]["started"]["count"], waits["all_providers"]["median_days"]) == (
        1,
        WAITED_DAYS,
    )
    # Anyone else: one child's wait is never shown, and this month's starts are not counted
    # until the month is over, so her start moved nothing.
    waits_protected = figures(gateway, stack_tokens, "/api/v1/stats/support/waiting-times", HUB)
    assert waits_protected["exact"] is False
    assert moment(waits_protected["events_until"]) == start_of_this_month()
    protected_group = provider_group(waits_protected, "post-abuse-support")
    assert protected_group["median_days"] is None
    assert protected_group["started"]["suppressed"] is not None or protected_group["started"]["count"] == 0
    assert waits_protected == waits_protected_before or (
        waits_protected["events_until"] != waits_protected_before["events_until"]
    )

    # Disruption: the notice and the charge count in this financial quarter, exactly for the
    # analyst (other tests may have recorded actions too: compared with before this one)...
    disruption = figures(gateway, stack_tokens, "/api/v1/stats/disruption", ANALYST)
    assert disruption["actions"]["exact"] is True

    def added(table: str, **key: str) -> int:
        return int(cell(disruption[table], **key)["count"]) - int(
            cell(disruption_exact_before[table], **key)["count"]
        )

    assert added("actions", kind="child_abduction_warning_notice", financial_quarter=quarter) == 1
    assert added("actions", kind="charge", financial_quarter=quarter) == 1
    assert added("charges_and_convictions", measure="charges", financial_quarter=quarter) == 1
    assert added("charges_and_convictions", measure="convictions", financial_quarter=quarter) == 0
    # ...and protected for everyone else: counted to the start of this month (so today's notice
    # and charge are not in them yet), any count from 1 to 5 shown as `c`.
    protected = figures(gateway, stack_tokens, "/api/v1/stats/disruption", HUB)
    assert protected["actions"]["exact"] is False
    assert moment(protected["actions"]["period"]["as_of"]) == start_of_this_month()
    for table, key in (
        ("actions", {"kind": "child_abduction_warning_notice", "financial_quarter": quarter}),
        ("actions", {"kind": "charge", "financial_quarter": quarter}),
        ("charges_and_convictions", {"measure": "charges", "financial_quarter": quarter}),
    ):
        shown = cell(protected[table], **key)
        assert shown["suppressed"] is not None or shown["count"] == 0, (table, shown)
    assert protected == disruption_protected_before or (
        protected["actions"]["period"]["as_of"] != disruption_protected_before["actions"]["period"]["as_of"]
    )


# --- an outage ----------------------------------------------------------------------------


def deliveries_to_the_referral_service(database: Database, tables: Any, child_id: str) -> list[Any]:
    """A service's deliveries of the child's events to the referral service, oldest first."""
    d, e = tables.deliveries, tables.events
    with database.sessions() as session:
        return list(
            session.execute(
                select(d.c.status, d.c.attempts, e.c.type)
                .join(e, e.c.seq == d.c.event_seq)
                .where(d.c.subscriber == "referral-api", d.c.subject == child_id)
                .order_by(d.c.id)
            ).all()
        )


def test_the_chronology_catches_up_with_events_sent_while_the_referral_service_was_stopped(
    gateway, stack_tokens, stack, journey_mace, risk_db, meetings_db
):
    child_id = refer(gateway, stack_tokens, "Bea")["child_id"]
    wait_for_screening(gateway, stack_tokens, child_id)
    occurrence_id = next_occurrence(gateway, stack_tokens, journey_mace["id"])
    assert occurrence_id is not None

    def waiting(database: Database, tables: Any, types: list[str]) -> bool:
        """The child's events to the referral service all kept, the first tried and failed
        (the rest wait behind it: one child's events are delivered in order)."""
        rows = deliveries_to_the_referral_service(database, tables, child_id)
        return (
            [r.type for r in rows] == types
            and all(r.status == PENDING for r in rows)
            and rows[0].attempts >= 1
        )

    stack.stop("referral-api")
    try:
        # The risk service assesses her and MACE discusses her, neither needing the referral service.
        assert assess(gateway, stack_tokens, child_id, MEDIUM_ANSWERS)["final_level"] == "medium"
        item = gateway.post(
            f"/api/v1/meetings/occurrences/{occurrence_id}/agenda/items",
            headers=stack_tokens.headers(**HUB),
            json={
                "kind": "child",
                "title": "A child seen at the hotel car park",
                "child_ids": [child_id],
                "reason": "Raised by the school",
            },
        )
        assert item.status_code == 201, item.text
        decide_and_agree_an_action(gateway, stack_tokens, item.json()["id"], child_id)
        eventually(
            lambda: (
                waiting(risk_db, RISK_EVENTS, ["risk.assessed", "risk.level_changed"])
                and waiting(
                    meetings_db, MEETINGS_EVENTS, ["meeting.decision_recorded", "meeting.action_agreed"]
                )
            ),
            "the relays tried, failed and kept the events while the referral service was down",
        )
    finally:
        restarted_at = datetime.now(UTC)
        stack.start("referral-api")
        stack.wait_ready("referral-api")

    reads = ChronologyReads(gateway, stack_tokens, child_id)
    heard_late = ["meeting_action_agreed", "meeting_decision", "risk_level_changed", "risk_assessed"]

    def caught_up() -> list[dict[str, Any]] | None:
        response = reads.read(HUB_CASE_WORKER)
        entries = response.json()["items"] if response.status_code == 200 else []
        return entries if kinds(entries) == [*heard_late, "referral_received"] else None

    # The relays retry at their back-off (doubling from a second), so within seconds of the restart.
    entries = eventually(
        caught_up, "the chronology caught up with what was said while it was down", seconds=60
    )
    # Each step heard of after the restart is placed when it happened, during the outage.
    for entry in entries[: len(heard_late)]:
        assert moment(entry["occurred_at"]) < restarted_at <= moment(entry["recorded_at"]), entry
    for database, tables in ((risk_db, RISK_EVENTS), (meetings_db, MEETINGS_EVENTS)):
        rows = deliveries_to_the_referral_service(database, tables, child_id)
        assert {r.status for r in rows} == {DELIVERED}
        assert rows[0].attempts >= 2  # failed while it was down, delivered after
