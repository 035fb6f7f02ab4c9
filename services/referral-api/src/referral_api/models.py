"""Every table of the referral service, imported so the metadata is complete
(for Alembic and the tests)."""

from referral_api.database import Base
from referral_api.referrals.models import Referral

__all__ = ["Base", "Referral"]
