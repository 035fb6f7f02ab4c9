"""The callers each referral-service endpoint accepts, each checked by the one policy
(:mod:`safeguarding_kit.partnership.policy`) and named after what it allows."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.partnership.policy import Permission, requires

# Case workers of any agency: safeguarding_kit.partnership.policy.CaseWorker.
ChildMerger = Annotated[Principal, Depends(requires(Permission.merge_children))]

SentReferralReader = Annotated[Principal, Depends(requires(Permission.read_sent_referrals))]
ReferralSubmitter = Annotated[Principal, Depends(requires(Permission.submit_referral))]
DataAdministrator = Annotated[Principal, Depends(requires(Permission.migrate_historic_records))]
# Which step needs which of the two is the workflow's (referrals.workflow.PERMISSION_FOR).
DecisionTeam = Annotated[
    Principal, Depends(requires(Permission.screen_referrals, Permission.decide_referrals))
]

BreakGlassCaller = Annotated[Principal, Depends(requires(Permission.break_glass))]

ThirdPartySender = Annotated[Principal, Depends(requires(Permission.send_third_party_information))]
ThirdPartyReader = Annotated[Principal, Depends(requires(Permission.read_third_party_information))]

# Creating and listing are refused outright (403); a record by id is need-to-know (404).
IntelligenceWorker = Annotated[Principal, Depends(requires(Permission.work_intelligence))]
IntelligenceReader = Annotated[
    Principal, Depends(requires(Permission.work_intelligence, refuse_as_not_found=True))
]

# A child's support: the hub offers it (arrange_support); the providing agency's case workers,
# or the hub's, record its start, contacts and end (deliver_support, checked per support).
SupportArranger = Annotated[Principal, Depends(requires(Permission.arrange_support))]
SupportWorker = Annotated[Principal, Depends(requires(Permission.deliver_support))]

# Information governance: legal holds and disposal (role auditor, capacity audits).
RetentionGovernor = Annotated[Principal, Depends(requires(Permission.govern_retention))]

# Information governance handling a subject access request (auditor at an agency granted audits).
SubjectAccessHandler = Annotated[Principal, Depends(requires(Permission.handle_subject_access))]
