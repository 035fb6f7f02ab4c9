"""Which record classes of the retention schedule a child's record falls under, when its
last activity was, and the first day it may be disposed of (the platform's default
schedule: 75 years after the last activity for an exploitation case, the 75th birthday
for a looked-after child, the 25th for referrals that opened no case, missing episodes
and third-party information, 6 years for persons and places of concern)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from referral_api.referrals.models import ReferralStatus
from referral_api.retention.classification import (
    ChildFacts,
    MissingEpisodeFacts,
    ReferralFacts,
    SupportFacts,
    child_dues,
    child_last_activity,
    child_record_classes,
    concern_dues,
    due_on,
    falls_due,
)
from safeguarding_kit.retention.schedule import RecordClass, RetentionSchedule, load_schedule

SCHEDULE = load_schedule()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def child(**facts: object) -> ChildFacts:
    values: dict[str, object] = {
        "child_id": uuid.uuid4(),
        "born": date(2008, 6, 1),
        "looked_after": False,
        "created_at": at(2020, 1, 6, 9),
        "updated_at": at(2020, 1, 6, 9),
    }
    values.update(facts)
    return ChildFacts(**values)  # type: ignore[arg-type]


def referral(
    status: ReferralStatus, received: datetime = at(2020, 1, 6, 9), **facts: object
) -> ReferralFacts:
    return ReferralFacts(status=status, received_at=received, **facts)  # type: ignore[arg-type]


def test_a_child_whose_referral_was_allocated_has_an_exploitation_case_record_kept_75_years():
    case = child(
        referrals=(
            referral(
                ReferralStatus.allocated,
                decided_at=at(2020, 1, 7, 12),
                first_contact_at=at(2020, 1, 9, 15),
            ),
        )
    )
    assert child_record_classes(case) == [RecordClass.exploitation_case_record]
    [due] = child_dues(case, SCHEDULE)
    assert due.rule == "75 years after the last activity"
    # The day after the 75 years from the last thing recorded (first contact).
    assert due.due_on == date(2095, 1, 10)


def test_a_case_allocated_and_closed_since_is_still_an_exploitation_case():
    closed = child(referrals=(referral(ReferralStatus.closed, ever_allocated=True),))
    assert child_record_classes(closed) == [RecordClass.exploitation_case_record]


def test_referrals_that_opened_no_case_are_kept_until_the_25th_birthday():
    signposted = child(
        referrals=(
            referral(ReferralStatus.signposted),
            referral(ReferralStatus.closed, received=at(2021, 3, 1, 10)),
            referral(ReferralStatus.screening, received=at(2022, 5, 1, 10)),
        )
    )
    assert child_record_classes(signposted) == [RecordClass.no_further_action_referral]
    assert due_on(child_dues(signposted, SCHEDULE)) == date(2033, 6, 1)


def test_one_allocated_referral_makes_the_whole_record_an_exploitation_case():
    mixed = child(referrals=(referral(ReferralStatus.no_further_action), referral(ReferralStatus.allocated)))
    assert child_record_classes(mixed) == [RecordClass.exploitation_case_record]


def test_a_looked_after_child_is_kept_until_the_75th_birthday_which_beats_the_25th():
    looked_after = child(looked_after=True, referrals=(referral(ReferralStatus.no_further_action),))
    dues = child_dues(looked_after, SCHEDULE)
    assert [(d.record_class, d.due_on) for d in dues] == [
        (RecordClass.looked_after_case_record, date(2083, 6, 1)),
        (RecordClass.no_further_action_referral, date(2033, 6, 1)),
    ]
    # The record goes only once every class lets it go.
    assert due_on(dues) == date(2083, 6, 1)
    assert not falls_due(dues, date(2040, 1, 1))
    assert falls_due(dues, date(2083, 6, 1))


def test_a_child_born_on_29_february_turns_25_on_28_february_in_a_common_year():
    leap_born = child(born=date(2008, 2, 29), referrals=(referral(ReferralStatus.signposted),))
    dues = child_dues(leap_born, SCHEDULE)
    assert due_on(dues) == date(2033, 2, 28)
    assert not falls_due(dues, date(2033, 2, 27))
    assert falls_due(dues, date(2033, 2, 28))


def test_a_looked_after_child_born_on_29_february_is_kept_until_28_february_of_their_75th_year():
    # A leap day birth's 25th and 75th birthdays never fall in a leap year.
    leap_born = child(born=date(2008, 2, 29), looked_after=True)
    assert due_on(child_dues(leap_born, SCHEDULE)) == date(2083, 2, 28)
    assert not falls_due(child_dues(leap_born, SCHEDULE), date(2083, 2, 27))


def test_missing_episodes_and_third_party_information_add_their_own_classes():
    reported = child(
        referrals=(referral(ReferralStatus.signposted),),
        missing_episodes=(MissingEpisodeFacts(reported_missing_at=at(2021, 2, 1, 22)),),
        third_party_received=(at(2021, 4, 1, 10),),
    )
    assert child_record_classes(reported) == [
        RecordClass.no_further_action_referral,
        RecordClass.missing_episode,
        RecordClass.third_party_information,
    ]
    assert {d.due_on for d in child_dues(reported, SCHEDULE)} == {date(2033, 6, 1)}


def test_a_child_reported_missing_without_any_referral_has_only_the_missing_episode_class():
    missing_only = child(missing_episodes=(MissingEpisodeFacts(reported_missing_at=at(2021, 2, 1, 22)),))
    assert child_record_classes(missing_only) == [RecordClass.missing_episode]


def test_a_child_registered_and_nothing_else_is_kept_as_a_referral_that_opened_no_case():
    registered = child()
    assert child_record_classes(registered) == [RecordClass.no_further_action_referral]
    assert due_on(child_dues(registered, SCHEDULE)) == date(2033, 6, 1)


def test_the_last_activity_is_the_latest_thing_recorded_about_the_child_on_the_day_in_england():
    busy = child(
        updated_at=at(2021, 1, 1, 9),
        referrals=(referral(ReferralStatus.allocated, decided_at=at(2021, 6, 2, 9)),),
        missing_episodes=(
            MissingEpisodeFacts(
                reported_missing_at=at(2022, 3, 1, 20),
                found_at=at(2022, 3, 2, 6),
                rhi_completed_at=at(2022, 3, 31, 23, 30),  # 00:30 on 1 April in England (BST)
            ),
        ),
        third_party_received=(at(2022, 2, 1, 10),),
    )
    assert child_last_activity(busy) == date(2022, 4, 1)
    [case, missing, third_party] = child_dues(busy, SCHEDULE)
    assert case.due_on == date(2097, 4, 2)
    assert (missing.due_on, third_party.due_on) == (date(2033, 6, 1), date(2033, 6, 1))


def test_the_record_itself_changed_later_than_anything_else_counts():
    changed = child(updated_at=at(2024, 8, 1, 12), referrals=(referral(ReferralStatus.allocated),))
    assert child_last_activity(changed) == date(2024, 8, 1)


def test_a_support_requested_started_or_ended_is_activity_on_the_childs_record():
    case = child(referrals=(referral(ReferralStatus.allocated, decided_at=at(2020, 1, 7, 12)),))
    assert child_last_activity(case) == date(2020, 1, 7)
    requested = child(referrals=case.referrals, supports=(SupportFacts(requested_at=at(2020, 2, 3, 9)),))
    assert child_last_activity(requested) == date(2020, 2, 3)
    ended = child(
        referrals=case.referrals,
        supports=(
            SupportFacts(
                requested_at=at(2020, 2, 3, 9), started_at=at(2020, 3, 2, 9), ended_at=at(2023, 7, 14, 16)
            ),
        ),
    )
    assert child_last_activity(ended) == date(2023, 7, 14)
    # An exploitation case is kept 75 years from then, not from the referral.
    assert due_on(child_dues(ended, SCHEDULE)) == date(2098, 7, 15)


def test_a_contact_or_a_step_recorded_later_is_activity_on_the_day_it_was_recorded():
    written_up_late = child(
        supports=(
            SupportFacts(
                requested_at=at(2021, 1, 4, 9),
                started_at=at(2021, 1, 20, 9),
                ended_at=at(2021, 6, 30, 12),
                recorded_at=(at(2021, 1, 4, 9), at(2021, 1, 20, 10), at(2021, 7, 2, 9)),
                contacts_recorded_at=(at(2021, 2, 1, 17), at(2021, 9, 1, 11)),  # notes typed up in September
            ),
        )
    )
    assert child_last_activity(written_up_late) == date(2021, 9, 1)


def test_a_person_of_concern_goes_the_day_after_six_clear_years():
    dues = concern_dues(RecordClass.person_of_concern, SCHEDULE, last_activity=date(2020, 2, 29))
    assert [(d.rule, d.due_on) for d in dues] == [("6 years after the last activity", date(2026, 3, 1))]
    assert not falls_due(dues, date(2026, 2, 28))
    assert falls_due(dues, date(2026, 3, 1))


def test_a_class_the_partnership_keeps_is_never_due():
    keeping = RetentionSchedule.model_validate(
        {
            **SCHEDULE.model_dump(mode="json"),
            "record_classes": {
                **SCHEDULE.model_dump(mode="json")["record_classes"],
                "missing_episode": {
                    "description": "Kept while the inquiry sits.",
                    "keep": {"kept": True},
                    "authority": "The partnership's decision of 1 December 2026.",
                },
            },
        }
    )
    reported = child(missing_episodes=(MissingEpisodeFacts(reported_missing_at=at(2021, 2, 1, 22)),))
    dues = child_dues(reported, keeping)
    assert [(d.rule, d.due_on) for d in dues] == [("kept", None)]
    assert due_on(dues) is None
    assert not falls_due(dues, date(2300, 1, 1))


@pytest.mark.parametrize(
    ("status", "ever_allocated", "allocated"),
    [
        (ReferralStatus.allocated, False, True),
        (ReferralStatus.closed, True, True),
        (ReferralStatus.closed, False, False),
        (ReferralStatus.received, False, False),
    ],
)
def test_a_referral_opened_a_case_when_it_is_or_was_allocated(status, ever_allocated, allocated):
    assert referral(status, ever_allocated=ever_allocated).allocated is allocated
