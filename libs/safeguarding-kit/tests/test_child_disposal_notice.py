"""A `child.disposed` event as the risk and meetings services read it: checked before
anything is deleted, and answered with one disposal record per record class."""

from __future__ import annotations

import uuid

import pytest

from safeguarding_kit.retention.notices import ChildDisposalNotice
from safeguarding_kit.retention.schedule import RecordClass

CHILD = "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11"


def event(**data: object) -> dict[str, object]:
    return {"id": "evt-1", "type": "child.disposed", "data": {"child_id": CHILD, **data}}


def test_a_notice_names_the_child_and_each_class_once():
    notice = ChildDisposalNotice.from_event(
        event(record_classes=["missing_episode", "no_further_action_referral", "missing_episode"])
    )
    assert notice.child_id == uuid.UUID(CHILD)
    assert notice.record_classes == (RecordClass.missing_episode, RecordClass.no_further_action_referral)
    assert notice.schedule_version is None


@pytest.mark.parametrize(
    "bad",
    [
        {"data": {"record_classes": ["missing_episode"]}},  # no child
        {"data": {"child_id": "not-a-uuid", "record_classes": ["missing_episode"]}},
        {"data": {"child_id": CHILD, "record_classes": []}},
        {"data": {"child_id": CHILD, "record_classes": "missing_episode"}},
        {"data": {"child_id": CHILD, "record_classes": ["everything"]}},
        {},
    ],
)
def test_an_event_that_is_not_a_disposal_is_refused_before_anything_is_deleted(bad):
    with pytest.raises((KeyError, ValueError)):
        ChildDisposalNotice.from_event(bad)
