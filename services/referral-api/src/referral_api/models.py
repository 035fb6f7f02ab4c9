"""Every table of the referral service, imported so the metadata is complete
(for Alembic and the tests)."""

from referral_api.break_glass.models import BreakGlassGrant
from referral_api.children.models import Child, ChildAgencyLink
from referral_api.chronology.models import ChronologyEntry
from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern
from referral_api.database import AUDIT, EVENTS, IDEMPOTENCY, Base
from referral_api.disruption.models import DisruptionAction, DisruptionActionChild
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralConcern, ReferralEvent
from referral_api.retention.models import DisposalRecord, LegalHold
from referral_api.stats.models import (
    DisruptionActionFact,
    MissingEpisodeFact,
    PlaceFact,
    ReferralFact,
    ReferralFactConcern,
    SupportContactFact,
    SupportFact,
)
from referral_api.subject_access.models import SubjectAccessPackage, SubjectAccessRequest
from referral_api.support.models import AssessedRiskLevel, Support, SupportContact
from referral_api.third_party.models import ThirdPartyInformation

__all__ = [
    "AUDIT",
    "EVENTS",
    "IDEMPOTENCY",
    "AssessedRiskLevel",
    "Base",
    "BreakGlassGrant",
    "Child",
    "ChildAgencyLink",
    "ChronologyEntry",
    "ConcernLink",
    "DisposalRecord",
    "DisruptionAction",
    "DisruptionActionChild",
    "DisruptionActionFact",
    "LegalHold",
    "MissingEpisode",
    "MissingEpisodeFact",
    "PersonOfConcern",
    "PlaceFact",
    "PlaceOfConcern",
    "Referral",
    "ReferralConcern",
    "ReferralEvent",
    "ReferralFact",
    "ReferralFactConcern",
    "SubjectAccessPackage",
    "SubjectAccessRequest",
    "Support",
    "SupportContact",
    "SupportContactFact",
    "SupportFact",
    "ThirdPartyInformation",
]
