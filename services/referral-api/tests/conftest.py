from __future__ import annotations

from datetime import UTC, datetime

import pytest

from referral_api import access
from referral_api.app import create_app
from referral_api.break_glass import service as break_glass_service
from referral_api.database import MIGRATIONS_DIR, VERSION_TABLE
from referral_api.models import Base
from referral_api.referrals import service as referral_service
from referral_api.settings import ReferralSettings
from referral_api.support import service as support_service
from safeguarding_kit.testing import ServiceSpec


@pytest.fixture(scope="session")
def service_spec() -> ServiceSpec:
    return ServiceSpec(
        name="referral-api",
        settings_class=ReferralSettings,
        create_app=create_app,
        metadata=Base.metadata,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
    )


class ReferralClock:
    """The time the referral service reads when it receives, decides, records first
    contact with or lists referrals: set ``now`` to an aware time, or None for the real one."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


@pytest.fixture
def referral_clock(monkeypatch: pytest.MonkeyPatch) -> ReferralClock:
    """A clock the test sets, so referrals are received and decided at known times."""
    clock = ReferralClock()
    monkeypatch.setattr(referral_service, "utc_now", clock)
    return clock


@pytest.fixture
def break_glass_clock(monkeypatch: pytest.MonkeyPatch) -> ReferralClock:
    """The time break-glass grants are given at and checked against, set by the test."""
    clock = ReferralClock()
    monkeypatch.setattr(break_glass_service, "utc_now", clock)
    monkeypatch.setattr(access, "utc_now", clock)
    return clock


@pytest.fixture
def support_clock(monkeypatch: pytest.MonkeyPatch) -> ReferralClock:
    """The time support is offered, started, ended and its contacts recorded at, set by the test."""
    clock = ReferralClock()
    monkeypatch.setattr(support_service, "utc_now", clock)
    return clock
