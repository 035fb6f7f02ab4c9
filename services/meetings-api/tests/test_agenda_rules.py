"""The agenda's rules over the risk and referral services' data, read through fakes of
their client Protocols: which children a meeting discusses, why, and as which items."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from meetings_fake_clients import FakeReferralClient, FakeRiskClient

from meetings_api.agendas.models import ItemKind
from meetings_api.agendas.rules import (
    AgendaWindow,
    ReasonCode,
    child_items,
    child_signals,
    group_linked_children,
    intelligence_items,
    never_at_mace_signals,
    repeat_children,
)
from meetings_api.agendas.upstream.referral_client import (
    ConcernType,
    PlaceOfConcern,
    ReferralClient,
)
from meetings_api.agendas.upstream.risk_client import RiskClient, RiskLevel, Trend

MEETING = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)
LAST_MEETING = MEETING - timedelta(weeks=1)
WINDOW = AgendaWindow(since=LAST_MEETING, meeting_at=MEETING, review_gap_weeks=12)


def reasons_by_child(
    risk: RiskClient, referrals: ReferralClient, window: AgendaWindow = WINDOW
) -> dict[uuid.UUID, dict[ReasonCode, str]]:
    found: dict[uuid.UUID, dict[ReasonCode, str]] = {}
    for signal in child_signals(risk, referrals, window):
        found.setdefault(signal.child_id, {})[signal.code] = signal.detail
    return found


def test_a_child_whose_risk_became_high_since_the_last_meeting_is_on_the_agenda_with_the_rise():
    risk = FakeRiskClient()
    rose = risk.assessed(
        current_level=RiskLevel.high,
        previous_level=RiskLevel.medium,
        trend=Trend.rising,
        level_changed_at=LAST_MEETING + timedelta(days=2),
    )
    risk.assessed(current_level=RiskLevel.high, level_changed_at=LAST_MEETING - timedelta(days=1))

    assert reasons_by_child(risk, FakeReferralClient()) == {
        rose: {
            ReasonCode.became_high: "Risk became high since the last meeting",
            ReasonCode.risk_rose: "Risk rose from medium to high",
        }
    }


def test_a_child_whose_review_falls_due_before_the_meeting_is_on_the_agenda():
    risk = FakeRiskClient()
    due = risk.assessed(current_level=RiskLevel.low, next_review_due=MEETING - timedelta(hours=1))
    risk.assessed(current_level=RiskLevel.low, next_review_due=MEETING + timedelta(days=1))

    assert reasons_by_child(risk, FakeReferralClient()) == {
        due: {ReasonCode.review_due: "Risk review due before this meeting"}
    }


def test_a_child_at_medium_or_high_risk_not_reviewed_for_the_configured_gap_is_named_with_that_gap():
    risk = FakeRiskClient()
    seven_weeks_ago = MEETING - timedelta(weeks=7)
    medium = risk.assessed(current_level=RiskLevel.medium, last_assessed_at=seven_weeks_ago)
    high = risk.assessed(current_level=RiskLevel.high, last_assessed_at=seven_weeks_ago)
    risk.assessed(current_level=RiskLevel.low, last_assessed_at=seven_weeks_ago)
    risk.assessed(current_level=RiskLevel.medium, last_assessed_at=MEETING - timedelta(weeks=5))
    six_weeks = AgendaWindow(since=LAST_MEETING, meeting_at=MEETING, review_gap_weeks=6)

    assert reasons_by_child(risk, FakeReferralClient(), six_weeks) == {
        medium: {ReasonCode.not_reviewed: "Not reviewed for 6 weeks or more"},
        high: {ReasonCode.not_reviewed: "Not reviewed for 6 weeks or more"},
    }
    # The default gap of twelve weeks does not reach them.
    assert reasons_by_child(risk, FakeReferralClient()) == {}


def test_a_gap_of_one_week_reads_as_one_week():
    risk = FakeRiskClient()
    child = risk.assessed(current_level=RiskLevel.high, last_assessed_at=MEETING - timedelta(days=8))
    one_week = AgendaWindow(since=LAST_MEETING, meeting_at=MEETING, review_gap_weeks=1)

    assert reasons_by_child(risk, FakeReferralClient(), one_week)[child] == {
        ReasonCode.not_reviewed: "Not reviewed for 1 week or more"
    }


def test_a_new_referral_with_exploitation_concerns_is_on_the_agenda_once_whatever_its_concerns():
    referrals = FakeReferralClient()
    since_last = LAST_MEETING + timedelta(days=1)
    both = referrals.referred(
        None, ConcernType.sexual_exploitation, ConcernType.county_lines, received_at=since_last
    )
    referrals.referred(None, ConcernType.online_harm, received_at=since_last)
    referrals.referred(None, ConcernType.criminal_exploitation, received_at=LAST_MEETING - timedelta(days=1))

    signals = child_signals(FakeRiskClient(), referrals, WINDOW)

    assert [(s.child_id, s.code, s.detail, s.repeat) for s in signals] == [
        (both, ReasonCode.new_referral, "New referral with exploitation concerns", False)
    ]


def test_a_repeat_referral_is_known_by_its_count_of_earlier_referrals_not_by_its_wording():
    referrals = FakeReferralClient()
    repeat = referrals.referred(received_at=LAST_MEETING + timedelta(days=1), previous_referrals=2)
    first = referrals.referred(received_at=LAST_MEETING + timedelta(days=1))

    signals = {s.child_id: s for s in child_signals(FakeRiskClient(), referrals, WINDOW)}

    assert signals[repeat].repeat is True
    assert signals[repeat].detail == "New referral with exploitation concerns (repeat referral: 3 in all)"
    assert signals[first].repeat is False
    assert repeat_children(signals.values()) == {repeat}


def test_a_child_missing_twice_in_ninety_days_is_a_repeat_and_older_episodes_do_not_count():
    referrals = FakeReferralClient()
    twice = uuid.uuid4()
    referrals.went_missing(twice, MEETING - timedelta(days=80), MEETING - timedelta(days=3))
    once_lately = uuid.uuid4()
    referrals.went_missing(once_lately, MEETING - timedelta(days=120), MEETING - timedelta(days=3))

    signals = child_signals(FakeRiskClient(), referrals, WINDOW)

    assert [(s.child_id, s.code, s.detail) for s in signals] == [
        (twice, ReasonCode.repeat_missing, "Missing 2 times in the last 90 days")
    ]
    assert repeat_children(signals) == {twice}


def test_children_with_repeats_never_at_mace_get_a_reason_of_their_own():
    child = uuid.uuid4()
    [signal] = never_at_mace_signals({child})
    assert (signal.child_id, signal.code) == (child, ReasonCode.repeat_never_at_mace)


def test_one_item_per_child_holds_every_reason_in_code_order():
    risk = FakeRiskClient()
    child = risk.assessed(
        current_level=RiskLevel.high,
        previous_level=RiskLevel.low,
        trend=Trend.rising,
        level_changed_at=LAST_MEETING + timedelta(days=1),
        next_review_due=MEETING - timedelta(days=1),
    )

    [item] = child_items(child_signals(risk, FakeReferralClient(), WINDOW))

    assert item.key == f"child:{child}"
    assert item.kind is ItemKind.child
    assert item.child_ids == [str(child)]
    assert item.title == f"Child {str(child)[:8]}"
    assert [r["code"] for r in item.reasons] == ["became_high", "review_due", "risk_rose"]


def test_three_thousand_children_at_high_risk_are_every_one_on_the_agenda():
    risk = FakeRiskClient()
    children = {
        risk.assessed(current_level=RiskLevel.high, level_changed_at=LAST_MEETING + timedelta(hours=1))
        for _ in range(3000)
    }

    items = child_items(child_signals(risk, FakeReferralClient(), WINDOW))

    assert {uuid.UUID(i.child_ids[0]) for i in items} == children
    assert len(items) == 3000


def test_children_on_the_agenda_linked_through_one_person_of_concern_become_one_item():
    referrals = FakeReferralClient()
    received = LAST_MEETING + timedelta(days=1)
    first, second, alone = (referrals.referred(received_at=received) for _ in range(3))
    not_on_agenda = uuid.uuid4()
    person = referrals.linked_person(first, second, not_on_agenda)

    wanted = child_items(child_signals(FakeRiskClient(), referrals, WINDOW))
    items = group_linked_children(wanted, referrals.persons_of_concern())

    assert [(i.kind, i.child_ids) for i in items] == [
        (ItemKind.child, [str(alone)]),
        (ItemKind.children_group, sorted([str(first), str(second)])),
    ]
    group = items[1]
    assert group.subject_id == person.id
    assert group.reasons[0] == {
        "code": "linked_children",
        "detail": "Linked through one person of concern (2)",
    }
    assert {r["code"] for r in group.reasons[1:]} == {"new_referral"}


def test_a_cetg_or_mapping_agenda_lists_each_person_and_place_with_its_children_and_ward():
    referrals = FakeReferralClient()
    child = uuid.uuid4()
    person = referrals.linked_person(child, alias="Shadz")
    place = PlaceOfConcern(
        id=uuid.uuid4(),
        name="Takeaway, London Road",
        place_type="takeaway",
        ward_code=None,
        child_ids=[child],
    )

    items = intelligence_items([person], [place])

    assert [(i.key, i.title, i.child_ids, i.reasons) for i in items] == [
        (
            f"person:{person.id}",
            "Person of concern: Shadz",
            [str(child)],
            [{"code": "person_of_concern", "detail": "1 linked children"}],
        ),
        (
            f"place:{place.id}",
            "Place of concern: Takeaway, London Road (takeaway)",
            [str(child)],
            [{"code": "place_of_concern", "detail": "ward n/a"}],
        ),
    ]


def test_the_rules_ask_the_risk_service_only_the_questions_the_agenda_needs():
    risk = FakeRiskClient()
    child_signals(risk, FakeReferralClient(), WINDOW)
    asked = [q.model_dump(exclude_none=True) for q in risk.queries]
    assert asked == [
        {"level": RiskLevel.high, "level_changed_since": LAST_MEETING},
        {"trend": Trend.rising, "level_changed_since": LAST_MEETING},
        {"review_due_before": MEETING},
        {"level": RiskLevel.medium, "assessed_before": MEETING - timedelta(weeks=12)},
        {"level": RiskLevel.high, "assessed_before": MEETING - timedelta(weeks=12)},
    ]
